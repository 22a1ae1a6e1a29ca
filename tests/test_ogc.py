"""OGC API Features over the catalog: read by OWSLib like any GIS tool would, paging with
next/prev links, bbox, datetime and property filters, HTML views of the same resources,
the OpenAPI document, and private rides invisible to everyone else."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from owslib.ogcapi.features import Features

from tests.ride_helpers import (
    load_oslo_roads,
    ride_along,
    ride_csv,
    road_by_name,
    utc,
)

STREET = "Jacob Aalls gate"


@pytest.fixture
def oslo_roads(db_conn):
    load_oslo_roads(db_conn)


@pytest.fixture
def ogc(server) -> str:
    """The OGC API's root on the live test server (tests/browser_fixtures.py)."""
    return f"{server}/ogc"


def test_owslib_reads_collections_and_items(ogc, oslo_roads):
    api = Features(ogc)
    ids = [c["id"] for c in api.collections()["collections"]]
    assert {"roads", "stops", "road_stats", "events"} <= set(ids)
    assert "my_rides" not in ids
    assert any("conf/geojson" in c for c in api.conformance()["conformsTo"])
    assert api.collection("roads")["title"] == "Streets"
    page = api.collection_items("roads", limit=5)
    assert page["type"] == "FeatureCollection" and page["numberReturned"] == 5
    assert {f["geometry"]["type"] for f in page["features"]} == {"LineString"}
    boxed = api.collection_items("roads", bbox=[10.75, 59.91, 10.76, 59.92], limit=1000)
    assert 0 < boxed["numberReturned"] < 1000
    named = api.collection_items("roads", name=STREET, limit=100)
    assert named["numberReturned"] >= 1
    assert {f["properties"]["name"] for f in named["features"]} == {STREET}
    one = api.collection_item("roads", str(page["features"][0]["id"]))
    assert one["id"] == page["features"][0]["id"]
    assert api.api()["openapi"].startswith("3.0")


def test_paging_links_walk_the_whole_collection(client, oslo_roads, db_conn):
    with db_conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM osm_roads WHERE geom && "
                    "ST_MakeEnvelope(10.75, 59.91, 10.76, 59.92, 4326)")
        total = cur.fetchone()[0]
    url = "/ogc/collections/roads/items?bbox=10.75,59.91,10.76,59.92&limit=7"
    seen, pages = [], 0
    while url:
        resp = client.get(url)
        assert resp.status_code == 200 and resp.mimetype == "application/geo+json"
        doc = resp.get_json()
        assert "numberMatched" not in doc
        seen += [f["id"] for f in doc["features"]]
        rels = {link["rel"]: link["href"] for link in doc["links"]}
        assert ("prev" in rels) == (pages > 0)
        url = None
        if "next" in rels:
            parts = urlsplit(rels["next"])
            url = f"{parts.path}?{parts.query}"
        pages += 1
    assert len(seen) == len(set(seen)) == total and pages >= 2


@pytest.mark.parametrize("query, status", [
    ("limit=0", 400), ("limit=abc", 400), ("offset=-1", 400), ("bbox=1,2,3", 400),
    ("bbox=10,60,9,61", 400), ("datetime=yesterday", 400), ("nope=1", 400),
    ("limit=20000", 200), ("f=xml", 400),
    # what schemathesis found disagreeing with the OpenAPI document (issue 10, finding 13)
    ("f=", 400), ("offset=", 400), ("limit=", 400), ("bbox=", 400), ("datetime=", 400),
    ("datetime=20240508", 400), ("datetime=2024-05-08T17", 400),
    ("datetime=2024-05-08T17:00:00Z/..", 200), ("datetime=../2024-05-08", 200),
    ("datetime=2024-02-30", 400),
])
def test_bad_item_queries_are_400_with_a_message(client, query, status):
    resp = client.get(f"/ogc/collections/roads/items?{query}")
    assert resp.status_code == status
    if status == 400:
        assert resp.get_json()["description"]


def test_html_views_of_the_same_resources(client, oslo_roads):
    for path in ("/ogc/", "/ogc/conformance", "/ogc/collections", "/ogc/collections/roads",
                 "/ogc/collections/roads/items?limit=3", "/ogc/api"):
        resp = client.get(path, headers={"Accept": "text/html"})
        assert resp.status_code == 200 and resp.mimetype == "text/html", path
        assert client.get(path + ("&" if "?" in path else "?") + "f=html").mimetype \
            == "text/html"
    page = client.get("/ogc/collections/roads/items?f=html&limit=3").data.decode()
    assert page.count("<tr>") == 4
    assert client.get("/ogc/collections/nope?f=html").status_code == 404


def test_ride_collections_hide_private_rides_and_filter_by_datetime(
        rider, other_rider, client, oslo_roads, process):
    _, coords = road_by_name(STREET)
    for seed, public in ((3, False), (9, True)):
        points = ride_along(coords, utc(2024, 5, 8, 17, 0, 0), seed=seed)
        data = ride_csv(points, {20: 100, 70: 140} if not public else {50: 110})
        (rider if not public else other_rider).upload_id(data, public=public)
    process()
    url = "/ogc/collections/events/items?limit=100"
    for viewer in (client, other_rider.client, rider.client):
        doc = viewer.get(url).get_json()
        assert [f["properties"]["distance_left"] for f in doc["features"]] == [1.1]
    mine = rider.client.get(url + "&mine=1").get_json()["features"]
    assert sorted(f["properties"]["distance_left"] for f in mine) == [1.0, 1.4]
    private_id = mine[0]["id"]
    assert other_rider.client.get(
        f"/ogc/collections/events/items/{private_id}").status_code == 404
    assert rider.client.get(
        f"/ogc/collections/events/items/{private_id}?mine=1").status_code == 200
    assert client.get("/ogc/collections/my_rides/items").status_code == 404
    assert len(rider.client.get("/ogc/collections/my_rides/items").get_json()["features"]) == 1
    assert client.get(url + "&datetime=2024-05-08T00:00:00Z/2024-05-09T00:00:00Z") \
        .get_json()["numberReturned"] == 1
    assert client.get(url + "&datetime=2024-06-01T00:00:00Z/..") \
        .get_json()["numberReturned"] == 0
    stats = client.get("/ogc/collections/road_stats/items?limit=100").get_json()
    assert sum(f["properties"]["events"] for f in stats["features"]) == 1


@pytest.mark.parametrize("query, status, message", [
    ("way_id=12", 200, None), ("way_id=1.5", 400, "way_id is an integer"),
    ("way_id=abc", 400, "way_id is an integer"), ("way_id=-3", 200, None),
    ("below_share=0.25", 200, None), ("below_share=1e-3", 200, None),
    ("below_share=x", 400, "below_share is a number"),
])
def test_a_property_filter_is_checked_by_the_property_type(client, query, status, message):
    resp = client.get(f"/ogc/collections/road_stats/items?{query}")
    assert resp.status_code == status
    if message:
        assert message in resp.get_json()["description"]


def test_another_method_is_405_with_allow(client):
    resp = client.post("/ogc/collections/roads/items")
    assert resp.status_code == 405
    assert set(resp.headers["Allow"].split(", ")) == {"GET", "HEAD", "OPTIONS"}


def test_the_document_lists_the_statuses_the_items_answer(client):
    doc = client.get("/ogc/api?f=json").get_json()
    items = doc["paths"]["/collections/roads/items"]["get"]["responses"]
    assert set(items) == {"200", "400", "429"}
    assert set(items["200"]["content"]) == {"application/geo+json", "text/html"}
    one = doc["paths"]["/collections/roads/items/{featureId}"]["get"]["responses"]
    assert set(one) == {"200", "400", "404", "429"}
