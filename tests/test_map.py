"""The map shell: MapLibre from our own server, tiles from our own PostGIS."""

import mapbox_vector_tile
import pytest

from tests.conftest import OSLO_PBF
from tests.osm_helpers import gen_pipeline, run_inline

# Oslo centre: the z14 tile with Karl Johans gate and Oslo S, and its z11 ancestor
Z14 = (14, 8681, 4765)
Z11 = (11, 1085, 595)


@pytest.fixture
def oslo(settings_env, db_conn):
    run = run_inline(settings_env, gen_pipeline(db_conn, "oslo", str(OSLO_PBF)))
    assert run["status"] == "succeeded", run["message"]


def test_map_page_loads_maplibre_from_this_server_never_a_cdn(client):
    page = client.get("/").data.decode()
    assert "/static/vendor/maplibre-gl/maplibre-gl.js" in page
    assert "unpkg" not in page and "cdn" not in page.lower()
    js = client.get("/static/vendor/maplibre-gl/maplibre-gl.js")
    assert js.status_code == 200 and len(js.data) > 100_000


def test_street_tile_holds_roads_and_stops_with_their_properties(client, oslo):
    resp = client.get("/tiles/osm/{}/{}/{}.mvt".format(*Z14))
    assert resp.status_code == 200
    assert resp.mimetype == "application/vnd.mapbox-vector-tile"
    tile = mapbox_vector_tile.decode(resp.data)
    roads, stops = tile["roads"]["features"], tile["stops"]["features"]
    assert len(roads) > 50 and len(stops) > 5
    assert all("highway" in f["properties"] for f in roads)
    assert any(f["properties"].get("name") == "Karl Johans gate" for f in roads)
    assert all(isinstance(f["id"], int) and f["id"] > 0 for f in roads)  # the OSM way id
    assert any(f["properties"].get("name") for f in stops)
    assert {f["properties"]["kind"] for f in stops} <= {
        "bus_stop", "platform", "stop_position", "station", "tram_stop", "halt"}


def test_low_zoom_tile_keeps_major_roads_only(client, oslo):
    tile = mapbox_vector_tile.decode(client.get("/tiles/osm/{}/{}/{}.mvt".format(*Z11)).data)
    highways = {f["properties"]["highway"] for f in tile["roads"]["features"]}
    assert highways and highways <= {"motorway", "trunk", "primary", "secondary", "tertiary",
                                     "motorway_link", "trunk_link", "primary_link",
                                     "secondary_link", "tertiary_link"}
    assert "stops" not in tile


def test_empty_area_gives_an_empty_tile(client, oslo):
    resp = client.get("/tiles/osm/14/0/0.mvt")
    assert resp.status_code == 200 and resp.data == b""


@pytest.mark.parametrize("path", ["/tiles/osm/3/8/0.mvt", "/tiles/osm/23/0/0.mvt"])
def test_tile_outside_the_grid_is_400_with_a_message(client, path):
    resp = client.get(path, headers={"Accept": "application/json"})
    assert resp.status_code == 400
    assert "x and y must lie in" in resp.json["error"]["message"]
