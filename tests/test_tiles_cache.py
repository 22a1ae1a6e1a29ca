"""The Redis tile cache: tiles (empty ones too) are served from it with a strong ETag and
304s, and every change that alters the map invalidates it at once: a processed ride, a
visibility change, a delete, an OSM import (stop imports and reviewers' decisions: in
test_stops_pipeline.py and test_stops_review.py)."""

from __future__ import annotations

import socket
import threading

import mapbox_vector_tile
import psycopg2
import pytest

from matching_and_import_db.settings import Settings
from matching_and_import_db.tilecache import dirty_tiles, invalidate
from scheduler import jobs
from tests.conftest import FIXTURES
from tests.osm_helpers import cached_tile_key, gen_pipeline, run_inline, tile_of
from tests.ride_helpers import STREET, load_oslo_roads, ride_along, ride_csv, road_by_name, utc

MONACO = str(FIXTURES / "osm" / "monaco-2012.osm.gz")


@pytest.fixture
def oslo_roads(db_conn):
    load_oslo_roads(db_conn)


@pytest.fixture
def scheduler_process(settings_env, redis):
    """Ride processing exactly as the scheduler's job runs it (tile invalidation included)."""
    settings = Settings.from_env(settings_env)
    ctx = jobs.WorkerContext(settings, redis,
                             lambda: psycopg2.connect(settings_env["PORTAL_DATABASE_URL"]),
                             f"test:{socket.gethostname()}", threading.Event())
    return lambda: jobs.process_rides(ctx)


def street_tile(z: int = 15) -> str:
    _, coords = road_by_name(STREET)
    lon, lat = coords[len(coords) // 2]
    return "/tiles/roads/{}/{}/{}.mvt".format(*tile_of(lon, lat, z))


def a_ride(seed=3, events=None):
    _, coords = road_by_name(STREET)
    points = ride_along(coords, utc(2024, 5, 8, 17, 0, 0), seed=seed)
    return points, ride_csv(points, events or {20: 100, 70: 140})


def events_in(client, path) -> list:
    resp = client.get(path)
    assert resp.status_code == 200
    return mapbox_vector_tile.decode(resp.data).get("events", {"features": []})["features"]


def test_a_cached_tile_answers_304_to_its_etag(client, oslo_roads):
    path = street_tile()
    first = client.get(path)
    assert first.status_code == 200 and first.data
    etag = first.headers["ETag"]
    assert etag.startswith('"') and etag.endswith('"') and not etag.startswith('W/')
    assert "no-cache" in first.headers["Cache-Control"]
    assert "public" in first.headers["Cache-Control"]
    again = client.get(path, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""
    assert again.headers["ETag"] == etag
    assert client.get(path, headers={"If-None-Match": '"other"'}).status_code == 200


def test_tiles_and_empty_tiles_come_from_redis(client, oslo_roads, db_conn, redis):
    full, empty = street_tile(), "/tiles/roads/15/0/0.mvt"
    before = client.get(full).data
    assert client.get(empty).data == b""
    key = "tiles:roads:0:" + full.removeprefix("/tiles/roads/").removesuffix(".mvt")
    assert redis.exists(key, "tiles:roads:0:15/0/0") == 2
    with db_conn.cursor() as cur:  # behind the cache's back: the cache still answers
        cur.execute("DELETE FROM osm_roads")
    db_conn.commit()
    assert client.get(full).data == before
    invalidate(redis, ["roads"])  # a generation bump retires everything
    assert client.get(full).data == b""


def test_a_processed_ride_shows_on_the_very_next_tile_request(
        rider, other_rider, client, oslo_roads, scheduler_process):
    points, data = a_ride()
    z, x, y = tile_of(points[70][1], points[70][2], 15)
    paths = [f"/tiles/road_stats,events/{z}/{x}/{y}.mvt", f"/tiles/events/{z}/{x}/{y}.mvt",
             f"/tiles/rides/{z - 2}/{x // 4}/{y // 4}.mvt"]
    for path in paths:  # warm the cache with tiles that have no ride yet
        assert events_in(client, path) == []
    etag = client.get(paths[0]).headers["ETag"]
    ride_id = rider.upload_id(data, public=True)
    assert scheduler_process() == 1
    for path in paths:
        assert events_in(client, path), path
    assert client.get(paths[0], headers={"If-None-Match": etag}).status_code == 200

    # queued again: its events leave the map at once, and come back once processed
    assert rider.post_form(f"/rides/{ride_id}/reprocess", {},
                           page=f"/rides/{ride_id}").status_code in (200, 302, 303)
    assert events_in(client, paths[0]) == []
    assert scheduler_process() == 1
    assert events_in(client, paths[0])

    # made private: gone for everyone else on the next request, still there for the owner
    assert rider.post_form(f"/rides/{ride_id}/visibility", {"public": "0"},
                           page=f"/rides/{ride_id}").status_code in (200, 302, 303)
    assert events_in(other_rider.client, paths[0]) == []
    assert events_in(rider.client, paths[0] + "?mine=1")
    # deleted: gone from the owner's view too
    assert rider.post_form(f"/rides/{ride_id}/delete", {},
                           page=f"/rides/{ride_id}").status_code in (200, 302, 303)
    assert events_in(rider.client, paths[0] + "?mine=1") == []


def test_a_render_racing_a_change_is_not_stored(client, oslo_roads, redis):
    from matching_and_import_db.tilecache import TileCache
    cache = TileCache(redis, 60)
    (gen, seq, etag, data), = cache.get_many([("roads", 15, 1, 1, "")])
    assert data is None
    invalidate(redis, ["roads"], (10.7, 59.9, 10.8, 59.95))
    assert cache.put("roads", 15, 1, 1, "", gen, seq, "0" * 32, b"old") is False
    (gen, seq, _, _), = cache.get_many([("roads", 15, 1, 1, "")])
    assert cache.put("roads", 15, 1, 1, "", gen, seq, "0" * 32, b"new") is True


def test_dirty_tiles_cover_every_parent_and_fall_back_to_a_generation_bump():
    tiles = dirty_tiles((10.75, 59.91, 10.76, 59.92), margin_deg=0)
    zooms = {z for z, _, _ in tiles}
    assert zooms == set(range(19)) and (0, 0, 0) in tiles
    assert tile_of(10.755, 59.915, 16) in tiles
    assert dirty_tiles((-170, -80, 170, 80)) is None


def test_an_osm_import_retires_the_cached_base_tiles(client, settings_env, db_conn, redis):
    path = "/tiles/roads/14/8529/5974.mvt"  # Monaco
    assert client.get(path).data == b""
    run = run_inline(settings_env, gen_pipeline(db_conn, "monaco", MONACO))
    assert run["status"] == "succeeded", run["message"]
    tile = mapbox_vector_tile.decode(client.get(path).data)
    assert tile["roads"]["features"]


def test_a_users_own_view_is_private_and_varies_by_cookie(rider, oslo_roads):
    resp = rider.client.get(street_tile(15).replace("/roads/", "/road_stats,events/")
                            + "?mine=1")
    assert resp.status_code == 200
    assert resp.headers["Cache-Control"].startswith("private")
    assert resp.headers["Vary"] == "Cookie"
    shared = rider.client.get(street_tile(15))
    assert shared.headers["Cache-Control"].startswith("public")


def test_mine_needs_a_login(client):
    assert client.get("/tiles/events/15/1/1.mvt?mine=1").status_code == 401


RIDE_TILE_LAYERS = ("road_stats", "events")  # the public layers drawn from rides


def warm_ride_tiles(client, redis, lon: float, lat: float) -> set[str]:
    """Request the public ride tiles over a point at several zooms (and one far away);
    return the Redis keys they were cached under."""
    keys = set()
    tiles = [tile_of(lon, lat, z) for z in (8, 12, 15, 18)] + [(15, 1, 1)]
    for layer in RIDE_TILE_LAYERS:
        for z, x, y in tiles:
            assert client.get(f"/tiles/{layer}/{z}/{x}/{y}.mvt").status_code == 200
            keys.add(cached_tile_key(redis, layer, z, x, y))
    assert redis.exists(*keys) == len(keys)
    return keys


def test_visibility_and_deletion_from_the_web_retire_the_tiles_a_reprocess_does(
        rider, other_rider, client, redis, oslo_roads, scheduler_process):
    points, data = a_ride()
    lon, lat = points[70][1], points[70][2]
    z, x, y = tile_of(lon, lat, 15)
    ride_id = rider.upload_id(data, public=True)
    assert scheduler_process() == 1
    page = f"/rides/{ride_id}"
    def made_public_again():
        assert rider.post_form(f"{page}/visibility", {"public": "1"},
                               page=page).status_code in (200, 302, 303)

    actions = {  # each: what brings the ride back on the map first, then the action
        "reprocess": (lambda: None,
                      lambda: rider.post_form(f"{page}/reprocess", {}, page=page)),
        "made private": (scheduler_process,
                         lambda: rider.post_form(f"{page}/visibility", {"public": "0"},
                                                 page=page)),
        "deleted": (made_public_again,
                    lambda: rider.post_form(f"{page}/delete", {}, page=page)),
    }
    retired = {}
    for name, (back_on_the_map, act) in actions.items():
        back_on_the_map()
        warmed = warm_ride_tiles(client, redis, lon, lat)
        assert events_in(other_rider.client, f"/tiles/events/{z}/{x}/{y}.mvt"), name
        assert act().status_code in (200, 302, 303), name
        retired[name] = {k for k in warmed if not redis.exists(k)}
        # what others see of the ride is gone at once, whichever way it went
        assert events_in(other_rider.client, f"/tiles/events/{z}/{x}/{y}.mvt") == [], name
        road_stats = mapbox_vector_tile.decode(
            other_rider.client.get(f"/tiles/road_stats/{z}/{x}/{y}.mvt").data)
        assert "road_stats" not in road_stats, name
    # the tiles over the ride, at every zoom and in both layers, and not the far one
    assert not any(k.endswith(":15/1/1") for k in retired["reprocess"])
    assert {k.split(":")[1] for k in retired["reprocess"]} == set(RIDE_TILE_LAYERS)
    assert len(retired["reprocess"]) == 2 * 4
    assert retired["made private"] == retired["reprocess"]
    assert retired["deleted"] == retired["reprocess"]
