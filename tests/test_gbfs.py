"""GBFS feeds end to end in this process: the recorded feeds of every version served by the
local replay server, polled as the scheduler's job does, published into PostGIS and the live
state in Redis; broken answers keep the last good data and say why."""

from __future__ import annotations

import json

import pytest

from matching_and_import_db.live.gbfs import publish
from tests.gbfs_helpers import (
    count,
    feed_row,
    live_state,
    poll,
    recorded,
    stream_length,
)

STATION_PROPERTIES = {"feed", "station_id", "name", "capacity", "num_bikes_available",
                      "num_docks_available", "is_renting", "is_returning", "last_reported",
                      "stale", "stale_reason"}
VEHICLE_PROPERTIES = {"feed", "vehicle_id", "vehicle_type_id", "form_factor", "is_reserved",
                      "is_disabled", "current_range_meters"}

# folder, version read, stations, vehicles, zones published (from the recorded files:
# Helsinki lists 10 stations, one with a null id, one with an empty id, one without a name
# and one without coordinates; Almere has 16 zones, two of them without a geometry)
RECORDED = [
    ("helsinki", "1.0", 6, 0, 0),
    ("lillestrombysykkel", "2.2", 6, 0, 0),
    ("duplicate_stations_v2", "2.2", 3, 0, 0),
    ("duplicate_stations_v3", "3.0", 3, 0, 0),
    ("tier_wolfsburg_v2.3", "2.3", 0, 840, 0),
    ("tieroslo", "2.3", 0, 0, 2),
    ("getaround_stavanger_v3", "3.0", 0, 40, 0),
    ("ridecheck_almere", "3.0", 0, 6, 14),
]


@pytest.mark.parametrize(("folder", "version", "stations", "vehicles", "zones"), RECORDED)
def test_every_recorded_version_is_published(replay, add_feed, db_conn, redis, folder,
                                             version, stations, vehicles, zones):
    slug = folder.replace(".", "-").replace("_", "-")
    add_feed(slug, f"{replay.url}/{folder}/gbfs.json")
    poll(db_conn, redis, slug)
    assert feed_row(db_conn, slug)["version"] == version
    assert count(db_conn, "gbfs_stations", slug) == stations
    assert count(db_conn, "gbfs_vehicles", slug) == vehicles
    assert count(db_conn, "gbfs_zones", slug) == zones
    live = {k: v for k, v in live_state(redis, publish.STATIONS).items()
            if k.startswith(slug + ":")}
    assert len(live) == stations
    for fid, f in live.items():
        assert set(f["properties"]) == STATION_PROPERTIES
        assert fid == f"{slug}:{f['properties']['station_id']}"
        assert f["geometry"]["type"] == "Point"
        assert f["properties"]["stale"] is False
    moving = live_state(redis, publish.VEHICLES)
    assert len(moving) == vehicles
    assert all(set(f["properties"]) == VEHICLE_PROPERTIES for f in moving.values())
    assert len(live_state(redis, publish.ZONES)) == zones


def test_a_1x_feed_names_the_stations_it_left_out(replay, add_feed, db_conn, redis):
    add_feed("helsinki", f"{replay.url}/helsinki/gbfs.json")
    poll(db_conn, redis, "helsinki")
    warnings = " | ".join(feed_row(db_conn, "helsinki")["warnings"])
    assert "data.stations[9].lat" in warnings  # Kasarmitori has null coordinates
    assert "record left out" in warnings
    assert "1 station(s) with an empty station_id left out" in warnings
    assert "status for 4 station(s) that station_information lacks" in warnings
    live = live_state(redis, publish.STATIONS)
    assert "helsinki:010" not in live
    status = {s["station_id"]: s
              for s in recorded("helsinki", "station_status")["data"]["stations"]}
    for f in live.values():  # 1.x writes 0/1: published as booleans
        p = f["properties"]
        assert p["num_bikes_available"] == status[p["station_id"]]["num_bikes_available"]
        assert p["is_renting"] is bool(status[p["station_id"]]["is_renting"])


@pytest.mark.parametrize("folder", ["duplicate_stations_v2", "duplicate_stations_v3"])
def test_a_duplicate_station_id_is_read_once_and_reported(replay, add_feed, db_conn, redis,
                                                          folder):
    add_feed("dup", f"{replay.url}/{folder}/gbfs.json")
    poll(db_conn, redis, "dup")
    row = feed_row(db_conn, "dup")
    assert any("'station_duplicate' appears 2 times" in w for w in row["warnings"])
    first = next(s for s in recorded(folder, "station_status")["data"]["stations"]
                 if s["station_id"] == "station_duplicate")
    got = live_state(redis, publish.STATIONS)["dup:station_duplicate"]["properties"]
    assert got["num_docks_available"] == first["num_docks_available"]


def test_status_for_stations_the_information_lacks_is_left_out(replay, add_feed, db_conn,
                                                               redis):
    # Oslo's 2025 status against its 2022 station list (the replay serves the newest
    # snapshot; the folder has no gbfs.json, the server lists its files)
    add_feed("oslo", f"{replay.url}/oslobysykkel/gbfs.json")
    poll(db_conn, redis, "oslo")
    info = {s["station_id"]
            for s in recorded("oslobysykkel", "station_information")["data"]["stations"]}
    status = recorded("oslobysykkel", "station_status_2025-04-01")["data"]["stations"]
    unknown = [s["station_id"] for s in status if s["station_id"] not in info]
    assert unknown
    warning = next(w for w in feed_row(db_conn, "oslo")["warnings"] if "lacks" in w)
    assert f"status for {len(unknown)} station(s)" in warning
    assert count(db_conn, "gbfs_stations", "oslo") == len(info)
    capacity = {s["station_id"]: s["capacity"]
                for s in recorded("oslobysykkel", "station_information")["data"]["stations"]}
    over = [s["station_id"] for s in status
            if s["station_id"] in capacity and s["num_bikes_available"] > capacity[s["station_id"]]]
    assert over
    assert any(f"{len(over)} station(s) with more bikes available than their capacity" in w
               for w in feed_row(db_conn, "oslo")["warnings"])
    assert not any(k.removeprefix("oslo:") in unknown for k in live_state(redis, publish.STATIONS))


def test_an_unchanged_file_is_asked_for_with_its_validators_and_sends_nothing(
        replay, add_feed, db_conn, redis):
    add_feed("lillestrom", f"{replay.url}/lillestrombysykkel/gbfs.json")
    poll(db_conn, redis, "lillestrom")
    events_after_first = stream_length(redis)
    replay.requests.clear()
    poll(db_conn, redis, "lillestrom", later_s=3600)
    asked = {path: headers for path, headers in replay.requests}
    status = asked["/lillestrombysykkel/station_status.json"]
    assert status["If-None-Match"].startswith('"')
    assert "If-Modified-Since" in status
    assert stream_length(redis) == events_after_first


def test_a_file_is_not_fetched_before_it_is_due(replay, add_feed, db_conn, redis):
    add_feed("lillestrom", f"{replay.url}/lillestrombysykkel/gbfs.json")
    poll(db_conn, redis, "lillestrom")
    replay.requests.clear()
    poll(db_conn, redis, "lillestrom")  # at once: nothing is due yet
    assert replay.requests == []


def _broken(name: str, body: bytes) -> dict:
    doc = json.loads(body)
    if name == "schema":
        doc["data"]["stations"] = "all of them"
    elif name == "future":
        doc["last_updated"] = 4102444800  # 2100-01-01
    return doc


# how the status file breaks, what the server answers, what the feed's reason says
BROKEN = [
    ("timeout", None, "read timeout"),
    ("500", (500, b"Internal Server Error", "text/plain"), "HTTP 500"),
    ("html", (200, b"<!DOCTYPE html><html><body>Maintenance</body></html>", "text/html"),
     "an HTML page"),
    ("truncated", "truncated", "not valid JSON"),
    ("schema", "schema", "does not follow the GBFS 2.2 schema: data.stations"),
    ("future", "future", "last_updated is"),
]


@pytest.mark.parametrize(("how", "answer", "reason"), BROKEN, ids=[b[0] for b in BROKEN])
def test_a_broken_fetch_keeps_the_last_good_data_and_says_why(replay, add_feed, db_conn,
                                                              redis, how, answer, reason):
    add_feed("lillestrom", f"{replay.url}/lillestrombysykkel/gbfs.json")
    poll(db_conn, redis, "lillestrom")
    good = live_state(redis, publish.STATIONS)
    path = "/lillestrombysykkel/station_status.json"
    original = (replay.root / path.lstrip("/")).read_bytes()
    if how == "timeout":
        replay.override(path, original, delay=3.0)  # the poller's timeout is 1 s
    elif answer == "truncated":
        replay.override(path, original[: len(original) // 2])
    elif isinstance(answer, str):
        replay.override(path, json.dumps(_broken(answer, original)).encode())
    else:
        status, body, ctype = answer
        replay.override(path, body, status=status, content_type=ctype)

    poll(db_conn, redis, "lillestrom", later_s=3600)

    row = feed_row(db_conn, "lillestrom")
    assert row["stale"] is True
    assert row["stale_reason"].startswith("station_status: ")
    assert reason in row["stale_reason"]
    now = live_state(redis, publish.STATIONS)
    assert now.keys() == good.keys()
    for fid, f in now.items():
        assert f["properties"]["stale"] is True
        assert f["properties"]["stale_reason"] == row["stale_reason"]
        kept = {k: v for k, v in f["properties"].items() if not k.startswith("stale")}
        before = {k: v for k, v in good[fid]["properties"].items() if not k.startswith("stale")}
        assert kept == before
    assert count(db_conn, "gbfs_stations", "lillestrom") == len(good)

    replay.clear(path)
    poll(db_conn, redis, "lillestrom", later_s=7200)  # past the backoff
    assert feed_row(db_conn, "lillestrom")["stale"] is False
    assert all(f["properties"]["stale"] is False
               for f in live_state(redis, publish.STATIONS).values())


def test_history_stores_changes_only(replay, add_feed, db_conn, redis):
    add_feed("lillestrom", f"{replay.url}/lillestrombysykkel/gbfs.json")
    poll(db_conn, redis, "lillestrom")
    stations = count(db_conn, "gbfs_stations", "lillestrom")
    assert count(db_conn, "gbfs_station_history", "lillestrom") == stations
    path = "/lillestrombysykkel/station_status.json"
    doc = recorded("lillestrombysykkel", "station_status")
    replay.override(path, json.dumps(doc).encode())  # the same data, a new ETag
    poll(db_conn, redis, "lillestrom", later_s=3600)
    assert count(db_conn, "gbfs_station_history", "lillestrom") == stations
    first = doc["data"]["stations"][0]
    first["num_bikes_available"] = max(0, first["num_bikes_available"] - 1)
    first["num_docks_available"] += 1
    before = stream_length(redis)
    replay.override(path, json.dumps(doc).encode())
    poll(db_conn, redis, "lillestrom", later_s=7200)
    assert count(db_conn, "gbfs_station_history", "lillestrom") == stations + 1
    assert stream_length(redis) == before + 1  # one station changed: one event
    changed = live_state(redis, publish.STATIONS)[f"lillestrom:{first['station_id']}"]
    assert changed["properties"]["num_docks_available"] == first["num_docks_available"]


def test_a_single_file_url_is_a_feed_of_that_file(replay, add_feed, db_conn, redis):
    add_feed("wolfsburg", f"{replay.url}/tier_wolfsburg_v2.3/free_bike_status.json")
    poll(db_conn, redis, "wolfsburg")
    assert count(db_conn, "gbfs_vehicles", "wolfsburg") == 840
    assert feed_row(db_conn, "wolfsburg")["stale"] is False


def test_a_url_that_is_no_feed_makes_the_feed_stale_with_the_reason(replay, add_feed,
                                                                    db_conn, redis):
    replay.override("/nothing/gbfs.json", b"<html>Not here</html>", status=404,
                    content_type="text/html")
    add_feed("nothing", f"{replay.url}/nothing/gbfs.json")
    poll(db_conn, redis, "nothing")  # never raises: the worker goes on
    row = feed_row(db_conn, "nothing")
    assert row["stale"] is True
    assert row["stale_reason"] == "gbfs: the server answered HTTP 404"


def test_a_private_address_is_refused_unless_allowed(replay, add_feed, db_conn, redis):
    from dataclasses import replace

    from matching_and_import_db.pipelines.sources import SourcePolicy
    from tests.gbfs_helpers import CONFIG
    add_feed("local", f"{replay.url}/lillestrombysykkel/gbfs.json")
    poll(db_conn, redis, "local", config=replace(CONFIG, sources=SourcePolicy()))
    reason = feed_row(db_conn, "local")["stale_reason"]
    assert "loopback" in reason and "PORTAL_SOURCE_ALLOWED_HOSTS" in reason
    assert replay.requests == []
