"""The layer catalog and its vector tiles: every layer's tile decodes with the catalog's
properties at several zooms, several layers come in one tile, TileJSON and the style point
at absolute URLs, and a private ride never reaches anyone else's tiles."""

from __future__ import annotations

import mapbox_vector_tile
import pytest

from matching_and_import_db import tilecache
from matching_and_import_db.layers.catalog import catalog
from tests.osm_helpers import tile_of
from tests.ride_helpers import STREET, load_oslo_roads, ride_along, ride_csv, road_by_name, utc


@pytest.fixture
def oslo_roads(db_conn):
    load_oslo_roads(db_conn)




def street_point() -> tuple[float, float]:
    _, coords = road_by_name(STREET)
    return coords[len(coords) // 2]


def decode(resp) -> dict:
    assert resp.status_code == 200, resp.data[:300]
    assert resp.mimetype == "application/vnd.mapbox-vector-tile"
    return mapbox_vector_tile.decode(resp.data)


def a_ride(seed=3, events=None):
    _, coords = road_by_name(STREET)
    points = ride_along(coords, utc(2024, 5, 8, 17, 0, 0), seed=seed)
    return points, ride_csv(points, events or {20: 100, 70: 140})


def test_catalog_groups_layers_and_hides_user_layers_from_anonymous(client, rider):
    groups = client.get("/api/layers").get_json()["groups"]
    ids = {la["id"]: la for g in groups for la in g["layers"]}
    assert {"roads", "stops", "road_stats", "events"} <= set(ids)
    assert "my_rides" not in ids
    assert ids["road_stats"]["group"] == "Rides"
    assert ids["road_stats"]["properties"]["below_share"] == "number"
    mine = rider.client.get("/api/layers").get_json()["groups"]
    assert "my_rides" in {la["id"] for g in mine for la in g["layers"]}
    assert client.get("/tiles/my_rides/14/8700/4800.mvt").status_code == 404


@pytest.mark.parametrize("z, expected", [
    (10, set()),  # a residential street is not drawn at z10
    (14, {STREET}),
    (16, {STREET}),
])
def test_roads_tiles_decode_with_the_catalog_properties_by_zoom(client, oslo_roads, z,
                                                                 expected):
    lon, lat = street_point()
    tile = decode(client.get("/tiles/roads/{}/{}/{}.mvt".format(*tile_of(lon, lat, z))))
    roads = tile.get("roads", {"features": []})["features"]
    names = {f["properties"].get("name") for f in roads}
    assert expected <= names
    if not expected:
        assert STREET not in names
        assert roads, "major roads are drawn at z10"
        assert {f["properties"]["highway"] for f in roads} <= {
            "motorway", "motorway_link", "trunk", "trunk_link", "primary", "primary_link"}
    else:
        assert set(roads[0]["properties"]) <= {"highway", "name", "oneway", "maxspeed",
                                               "surface"}
        assert all(isinstance(f["id"], int) and f["id"] > 0 for f in roads)


def test_one_tile_carries_several_layers_and_the_old_urls_still_work(client, oslo_roads):
    lon, lat = street_point()
    z, x, y = tile_of(lon, lat, 15)
    combined = decode(client.get(f"/tiles/roads,road_stats,events/{z}/{x}/{y}.mvt"))
    assert "roads" in combined
    alone = decode(client.get(f"/tiles/roads/{z}/{x}/{y}.mvt"))
    assert combined["roads"]["features"] == alone["roads"]["features"]
    assert "roads" in decode(client.get(f"/tiles/osm/{z}/{x}/{y}.mvt"))


@pytest.mark.parametrize("path, status", [
    ("/tiles/roads/3/8/1.mvt", 400),
    ("/tiles/roads/23/0/0.mvt", 400),
    ("/tiles/nope/3/1/1.mvt", 404),
    ("/tiles/roads,roads/3/1/1.mvt", 404),
    ("/tiles/roads;drop/3/1/1.mvt", 404),
])
def test_bad_tile_requests(client, path, status):
    assert client.get(path).status_code == status


def test_empty_tiles_are_valid_and_carry_an_etag(client):
    resp = client.get("/tiles/roads/3/1/1.mvt")
    assert resp.status_code == 200 and resp.data == b""
    assert resp.headers["ETag"].startswith('"')


def test_tilejson_and_style_use_absolute_urls(client, settings_env):
    base = settings_env.get("PORTAL_PUBLIC_URL", "http://127.0.0.1:5001").rstrip("/")
    tj = client.get("/tiles/road_stats,events/tilejson.json").get_json()
    assert tj["tilejson"] == "3.0.0"
    assert tj["tiles"] == [f"{base}/tiles/road_stats,events/{{z}}/{{x}}/{{y}}.mvt"]
    assert [v["id"] for v in tj["vector_layers"]] == ["road_stats", "events"]
    assert tj["vector_layers"][1]["fields"]["too_close"] == "Boolean"
    style = client.get("/styles/portal.json").get_json()
    assert style["version"] == 8
    assert all(s["url"].startswith(base + "/tiles/") for s in style["sources"].values())
    layer_ids = {la["metadata"]["portal:layer"] for la in style["layers"] if "metadata" in la}
    assert {"roads", "stops", "road_stats", "events"} <= layer_ids
    assert client.get("/tiles/my_rides/tilejson.json").status_code == 404


def test_a_private_ride_never_appears_in_another_users_tiles(rider, other_rider, client,
                                                             oslo_roads, process):
    points, private_data = a_ride()
    rider.upload_id(private_data, public=False)
    process()
    for z in (13, 15, 17):
        z, x, y = tile_of(points[70][1], points[70][2], z)
        path = f"/tiles/road_stats,events/{z}/{x}/{y}.mvt"
        for viewer in (client, other_rider.client):
            for query in ("", "?mine=1", "?from=2024-05-01&to=2024-05-31"):
                if query == "?mine=1" and viewer is client:
                    continue
                tile = decode(viewer.get(path + query))
                assert "events" not in tile and "road_stats" not in tile, (z, query)
            assert "my_rides" not in decode(other_rider.client.get(
                f"/tiles/my_rides/{z}/{x}/{y}.mvt"))
        # the owner sees it, in their own view only
        own = decode(rider.client.get(path + "?mine=1"))
        seen = {f["properties"]["distance_left"] for f in own["events"]["features"]}
        assert seen and seen <= {1.0, 1.4}
        assert own["road_stats"]["features"][0]["properties"]["events"] >= 1
        mine = decode(rider.client.get(f"/tiles/my_rides/{z}/{x}/{y}.mvt"))
        assert mine["my_rides"]["features"][0]["properties"]["public"] is False
        assert "events" not in decode(rider.client.get(path))


def test_stop_layers_are_cached_and_show_a_published_change_on_the_next_request(
        client, db_conn, redis):
    lon, lat = 10.7522, 59.9139
    with db_conn.cursor() as cur:
        cur.execute("INSERT INTO official_stops (stop_id, source, name, extra, geom) VALUES "
                    "('ch:1:sloid:7', 'csv', 'Jernbanetorget', '{}', "
                    "ST_SetSRID(ST_MakePoint(%s, %s), 4326))", (lon, lat))
        cur.execute("INSERT INTO stop_matches (official_id, osm_key, method, stage, score, "
                    "distance_m, official_name, osm_name, evidence, profile_version, geom) "
                    "VALUES ('ch:1:sloid:7', 'n42', 'distance_name', 'fuzzy', 0.9, 12.5, "
                    "'Jernbanetorget', 'Jernbanetorget', '{}', 'stops-2025.1', "
                    "ST_SetSRID(ST_MakeLine(ST_MakePoint(%s, %s), ST_MakePoint(%s, %s)), "
                    "4326))", (lon, lat, lon + 0.0002, lat))
        cur.execute("INSERT INTO stop_problems (type, priority, official_id, area, evidence, "
                    "geom) VALUES ('too_far', 2, 'ch:1:sloid:7', 'x', '{}', "
                    "ST_SetSRID(ST_MakePoint(%s, %s), 4326))", (lon, lat))
    db_conn.commit()
    path = "/tiles/official_stops,stop_matches,stop_problems/{}/{}/{}.mvt".format(
        *tile_of(lon, lat, 16))
    tile = decode(client.get(path))
    assert tile["official_stops"]["features"][0]["properties"]["name"] == "Jernbanetorget"
    assert tile["stop_matches"]["features"][0]["properties"]["distance_m"] == 12.5
    assert tile["stop_problems"]["features"][0]["properties"]["type"] == "too_far"
    with db_conn.cursor() as cur:
        cur.execute("UPDATE official_stops SET name = 'Oslo S'")
    db_conn.commit()
    # behind the cache's back the cached tile still answers; a publish tells the cache
    tile = decode(client.get(path))
    assert tile["official_stops"]["features"][0]["properties"]["name"] == "Jernbanetorget"
    catalog().tile_invalidator(redis).changed_everywhere(tilecache.STOPS)
    tile = decode(client.get(path))
    assert tile["official_stops"]["features"][0]["properties"]["name"] == "Oslo S"
    items = client.get("/ogc/collections/stop_matches/items").get_json()["features"]
    assert items[0]["id"] == "ch:1:sloid:7~n42"


def test_the_map_page_names_an_external_basemap_when_one_is_set(settings_env):
    from tests.conftest import make_app
    app = make_app(settings_env, basemap_style_url="https://tiles.example.org/style.json")
    page = app.test_client().get("/").data.decode()
    assert 'data-basemap="https://tiles.example.org/style.json"' in page
    from app.extensions import db
    with app.app_context():
        db.engine.dispose()


def test_every_cacheable_layer_says_which_data_its_tiles_are_drawn_from():
    # without depends_on no change would ever retire the layer's tiles, so it would not be
    # cached at all: a layer that means to be cached must name its data
    silent = [la.id for la in catalog().layers.values() if la.cache and not la.depends_on]
    assert silent == []
    assert set(catalog().layers_depending_on(tilecache.RIDES)) >= {"road_stats", "events",
                                                                   "my_rides"}
    assert set(catalog().layers_depending_on(tilecache.STOPS)) >= {
        "official_stops", "stop_matches", "stop_problems"}
