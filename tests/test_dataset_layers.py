"""A published dataset is a catalog layer: in /api/layers and the style, as vector tiles
(invalidated when it is published again), as an OGC API Features collection, at
/api/geo/{dataset} with bbox, paging and property filters, and as GeoJSON/CSV downloads."""

from __future__ import annotations

import csv
import io
import json

import mapbox_vector_tile
import pytest

from tests.conftest import wait_until
from tests.dataset_helpers import PARKING_COUNT, PARKING_GEOJSON, dataset_pipeline, run_dataset
from tests.osm_helpers import tile_of

SLUG = "bicycle_parking"
FEATURES = json.loads(PARKING_GEOJSON.read_text())["features"]


@pytest.fixture
def published(settings_env, db_conn):
    p = dataset_pipeline(db_conn, "parking", slug=SLUG, source=str(PARKING_GEOJSON),
                         title="Bicycle parking", group="Open data", colour="#1f78b4")
    run = run_dataset(settings_env, p)
    assert run["status"] == "succeeded", run["message"]
    return p


def _groups(client) -> dict:
    return {g["title"]: [la["id"] for la in g["layers"]]
            for g in client.get("/api/layers").get_json()["groups"]}


def test_the_dataset_is_in_the_catalog_and_the_style(client, published):
    wait_until(lambda: SLUG in _groups(client).get("Open data", []), 10,
               message="the dataset in /api/layers")
    layer = next(la for g in client.get("/api/layers").get_json()["groups"]
                 for la in g["layers"] if la["id"] == SLUG)
    assert layer["title"] == "Bicycle parking" and layer["geometry_type"] == "Point"
    assert layer["properties"]["capacity"] == "integer"
    assert layer["legend"] == [["#1f78b4", "Bicycle parking"]]
    style = client.get("/styles/portal.json").get_json()
    drawn = [s for s in style["layers"] if s.get("source-layer") == SLUG]
    assert drawn and drawn[0]["paint"]["circle-color"] == "#1f78b4"


def test_api_geo_pages_filters_and_bboxes(client, published):
    page = client.get(f"/api/geo/{SLUG}?limit=200")
    assert page.status_code == 200 and page.mimetype == "application/geo+json"
    ids = []
    doc = page.get_json()
    while True:
        ids += [f["properties"]["osm_id"] for f in doc["features"]]
        nxt = [link["href"] for link in doc["links"] if link["rel"] == "next"]
        if not nxt:
            break
        doc = client.get(nxt[0].replace("http://localhost", "")).get_json()
    assert sorted(ids) == sorted(f["properties"]["osm_id"] for f in FEATURES)
    covered = client.get(f"/api/geo/{SLUG}?covered=yes&limit=1000").get_json()
    want = [f for f in FEATURES if f["properties"]["covered"] == "yes"]
    assert len(covered["features"]) == len(want) > 0
    big = client.get(f"/api/geo/{SLUG}?capacity=20&limit=1000").get_json()
    assert len(big["features"]) == sum(f["properties"]["capacity"] == 20 for f in FEATURES)
    bbox = (10.74, 59.91, 10.75, 59.92)
    inside = client.get(f"/api/geo/{SLUG}?bbox={','.join(map(str, bbox))}&limit=1000")
    want = [f for f in FEATURES
            if bbox[0] <= f["geometry"]["coordinates"][0] <= bbox[2]
            and bbox[1] <= f["geometry"]["coordinates"][1] <= bbox[3]]
    assert len(inside.get_json()["features"]) == len(want) > 0
    # what the layer does not have is a clear 400, an unknown dataset a 404
    bad = client.get(f"/api/geo/{SLUG}?colour=red")
    assert bad.status_code == 400 and "colour" in bad.get_json()["error"]["message"]
    assert client.get(f"/api/geo/{SLUG}?capacity=many").status_code == 400
    assert client.get("/api/geo/no_such_dataset").status_code == 404
    for bad_query in ("limit=abc", "limit=0", "offset=-1", "bbox=1,2", "bbox=10,60,9,59",
                      "capacity=1e999x"):
        assert client.get(f"/api/geo/{SLUG}?{bad_query}").status_code == 400, bad_query
    assert client.get(f"/api/geo/{SLUG}.xml").status_code == 400


def test_downloads_as_geojson_and_csv(client, published):
    whole = client.get(f"/api/geo/{SLUG}.geojson")
    assert whole.status_code == 200
    assert "bicycle_parking.geojson" in whole.headers["Content-Disposition"]
    assert len(json.loads(whole.data)["features"]) == PARKING_COUNT
    table = client.get(f"/api/geo/{SLUG}.csv?covered=no")
    assert table.status_code == 200 and table.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(table.data.decode())))
    assert len(rows) == sum(f["properties"]["covered"] == "no" for f in FEATURES)
    assert set(rows[0]) == {"id", "osm_id", "name", "capacity", "bicycle_parking", "covered",
                            "access", "operator", "wkt"}
    assert all(r["wkt"].startswith("POINT (10.") for r in rows)


def test_downloads_stream_page_by_page(client, published, monkeypatch):
    """A download is streamed: page after page of the dataset, every feature once."""
    from app.datasets import views
    monkeypatch.setattr(views, "EXPORT_PAGE", 100)  # 483 features: five pages
    whole = client.get(f"/api/geo/{SLUG}.geojson")
    assert whole.is_streamed and whole.status_code == 200
    ids = [f["id"] for f in json.loads(whole.data)["features"]]
    assert len(ids) == len(set(ids)) == PARKING_COUNT
    table = client.get(f"/api/geo/{SLUG}.csv")
    assert table.is_streamed
    rows = list(csv.DictReader(io.StringIO(table.data.decode())))
    assert sorted(r["id"] for r in rows) == sorted(str(i) for i in ids)


def test_ogc_api_serves_the_dataset(client, published):
    doc = client.get(f"/ogc/collections/{SLUG}/items?limit=5&f=json").get_json()
    assert doc["numberReturned"] == 5
    one = doc["features"][0]
    again = client.get(f"/ogc/collections/{SLUG}/items/{one['id']}?f=json").get_json()
    assert again["properties"] == one["properties"]


def _tile_ids(client, z, x, y) -> set[int]:
    resp = client.get(f"/tiles/{SLUG}/{z}/{x}/{y}.mvt")
    assert resp.status_code == 200
    layer = mapbox_vector_tile.decode(resp.data).get(SLUG, {"features": []})
    return {f["properties"]["osm_id"] for f in layer["features"]}


def test_tiles_show_the_dataset_and_follow_a_new_publish(client, settings_env, db_conn,
                                                         published, tmp_path):
    lon, lat = FEATURES[0]["geometry"]["coordinates"]
    z, x, y = tile_of(lon, lat, 13)
    before = _tile_ids(client, z, x, y)
    assert FEATURES[0]["properties"]["osm_id"] in before
    # published again from a file without that parking: the cached tile is not served
    rest = dict(json.loads(PARKING_GEOJSON.read_text()), features=FEATURES[1:])
    smaller = tmp_path / "parking-smaller.geojson"
    smaller.write_text(json.dumps(rest))
    with db_conn.cursor() as cur:
        cur.execute("UPDATE pipelines SET config = jsonb_set(config, '{source}', %s) "
                    "WHERE id = %s", (json.dumps(str(smaller)), published))
    db_conn.commit()
    assert run_dataset(settings_env, published)["status"] == "succeeded"
    after = _tile_ids(client, z, x, y)
    assert after == before - {FEATURES[0]["properties"]["osm_id"]}
