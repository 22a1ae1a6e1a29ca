"""The dry run on the pipelines page: an operator sees the inferred schema and the first 20
features of a dataset source before saving, nothing is written, and bad input answers 400
naming the problem."""

from __future__ import annotations

import json

import pytest

from tests.conftest import login
from tests.dataset_helpers import DATASETS, PARKING_GEOJSON
from tests.security_helpers import post


@pytest.fixture
def operator(client, oidc_provider):
    login(client, oidc_provider, "olga", ["operator"])
    return client


def _preview(client, source: str, **config):
    return post(client, "/api/pipelines/preview",
                {"kind": "dataset", "source": source, "config": json.dumps(config)})


def test_the_dry_run_shows_schema_and_first_features_and_saves_nothing(operator, db_conn):
    resp = _preview(operator, str(DATASETS / "oslo-bicycle-parking-utm33.zip"),
                    slug="parking")
    assert resp.status_code == 200, resp.data
    doc = resp.get_json()
    assert doc["srid"] == 25833 and doc["geometry_type"] == "Point"
    assert ["capacity", "bigint"] in doc["schema"]
    feats = doc["features"]["features"]
    first = json.loads(PARKING_GEOJSON.read_text())["features"][0]
    assert len(feats) == 20
    # reprojected from UTM 33N for the preview: the same parking as the GeoJSON's first
    lon, lat = feats[0]["geometry"]["coordinates"]
    want = first["geometry"]["coordinates"]
    assert abs(lon - want[0]) < 1e-6 and abs(lat - want[1]) < 1e-6
    assert feats[0]["properties"]["osm_id"] == first["properties"]["osm_id"]
    with db_conn.cursor() as cur:
        cur.execute("SELECT (SELECT count(*) FROM pipelines), "
                    "(SELECT count(*) FROM published_datasets)")
        assert cur.fetchone() == (0, 0)
    db_conn.commit()


def test_the_dry_run_names_bad_input(operator, tmp_path):
    broken = tmp_path / "broken.gpkg"
    broken.write_bytes((DATASETS / "oslo-bicycle-parking.gpkg").read_bytes()[:4096])
    resp = _preview(operator, str(broken), slug="parking")
    assert resp.status_code == 400
    assert "broken.gpkg" in resp.get_json()["error"]["message"]
    no_slug = _preview(operator, str(PARKING_GEOJSON))
    assert no_slug.status_code == 400 and "slug" in no_slug.get_json()["error"]["message"]
    outside = _preview(operator, "/etc/passwd", slug="x")
    assert outside.status_code == 400
    assert "outside the import directory" in outside.get_json()["error"]["message"]


def test_a_plain_user_gets_no_dry_run(client, oidc_provider):
    login(client, oidc_provider, "ulla", ["user"])
    assert _preview(client, str(PARKING_GEOJSON), slug="x").status_code == 404
