"""The stops import on the pipeline runner: the golden case reproduced through the database,
decisions that survive re-imports (and are flagged when their evidence changed), readers
that see the old data until the one publish transaction commits, and broken input that
fails the run and leaves the published data as it was.
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter

import mapbox_vector_tile
import psycopg2
import pytest

from matching_and_import_db.errors import InputError
from matching_and_import_db.stops.matching import DEFAULT_PROFILE
from matching_and_import_db.stops.pipeline import detect_format, validate_config
from tests.conftest import FIXTURES, wait_until
from tests.http_helpers import serve_directory
from tests.osm_helpers import cached_tile_key, gen_pipeline, run_inline, tile_of
from tests.stops_helpers import (
    EXPECTED,
    GOLDEN_ATLAS,
    GOLDEN_PAIRS,
    SERVICE_POINT_HEADER,
    STOPS,
    atlas_file,
    decision_status,
    gen_stops_pipeline,
    gen_user,
    load_golden_osm,
    publish_golden,
    published_pairs,
    published_problems,
    record,
    service_point,
    stops_fingerprint,
)

PHASES = ["fetch", "parse", "stage", "match", "problems", "publish", "reapply"]


# --- the golden case -------------------------------------------------------------------

def test_golden_case_is_reproduced_through_the_pipeline(settings_env, db_conn, tmp_path):
    load_golden_osm(settings_env, db_conn, tmp_path)
    run = run_inline(settings_env, gen_stops_pipeline(db_conn, "atlas", GOLDEN_ATLAS))

    assert run["status"] == "succeeded", run["message"]
    assert published_pairs(db_conn) == GOLDEN_PAIRS
    problems = {(o, k, t, p) for o, k, t, p, _resolved in published_problems(db_conn)}
    for official_id, osm_id, kind, priority in EXPECTED["problems"]:
        if kind == "unmatched":
            kind = "unmatched_official" if official_id else "unmatched_osm"
        assert (official_id, f"n{osm_id}" if osm_id else None, kind, priority) in problems
    # the format was told by the header; every phase ran and reported its time
    assert run["counts"]["official_read"] == 8 and run["counts"]["matches"] == len(GOLDEN_PAIRS)
    assert set(run["phase_seconds"]) == set(PHASES)
    assert "format detected: atlas" in json.dumps(run["log"])
    with db_conn.cursor() as cur:
        cur.execute("SELECT run_id, format, profile_version, profile ->> 'candidate_radius_m', "
                    "counts -> 'stages' ->> 'identifier' FROM stop_publications")
        assert cur.fetchall() == [(run["id"], "atlas", DEFAULT_PROFILE.version, "100.0", "4")]
        cur.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'staging'")
        assert cur.fetchone()[0] == 0


def test_importing_the_same_registry_again_changes_no_official_stop(settings_env, db_conn,
                                                                    tmp_path):
    pipeline = publish_golden(settings_env, db_conn, tmp_path)
    before = stops_fingerprint(db_conn)
    again = run_inline(settings_env, pipeline)
    assert again["status"] == "succeeded", again["message"]
    assert {again["counts"][k] for k in ("official_inserted", "official_updated",
                                         "official_deleted")} == {0}
    assert stops_fingerprint(db_conn)[:2] == before[:2]


def test_a_gtfs_feed_is_recognised_and_matched_against_real_osm_data(settings_env, db_conn):
    osm = run_inline(settings_env, gen_pipeline(db_conn, "boeblingen", str(
        FIXTURES / "osm" / "boeblingen-minimal.osm.pbf")))
    assert osm["status"] == "succeeded", osm["message"]
    feed = STOPS / "vvs-bus-751.gtfs.zip"
    run = run_inline(settings_env, gen_stops_pipeline(db_conn, "vvs", feed, osm_within_m=300))

    assert run["status"] == "succeeded", run["message"]
    from matching_and_import_db.stops.readers import read_gtfs_stops
    assert run["counts"]["official_read"] == len(read_gtfs_stops(str(feed)).stops)
    assert 0 < run["counts"]["osm_stops"] < osm["counts"]["stops_inserted"]
    with db_conn.cursor() as cur:
        cur.execute("SELECT format FROM stop_publications")
        assert cur.fetchall() == [("gtfs",)]
        cur.execute("SELECT count(*), max(distance_m) FROM stop_matches")
        matches, farthest = cur.fetchone()
        cur.execute("SELECT count(*) FROM official_stops WHERE stop_id LIKE 'de:08115:%'")
        assert cur.fetchone()[0] == run["counts"]["official_in_scope"]
    assert matches == run["counts"]["matches"] > 0 and farthest < 50


def test_osm_within_m_leaves_far_osm_stops_out_of_the_matching(settings_env, db_conn,
                                                                tmp_path):
    load_golden_osm(settings_env, db_conn, tmp_path)
    run = run_inline(settings_env, gen_stops_pipeline(db_conn, "near", GOLDEN_ATLAS,
                                                      osm_within_m=1000))
    assert run["status"] == "succeeded", run["message"]
    assert run["counts"]["osm_stops"] == 8  # n9 lies 11 km from every official stop
    assert published_pairs(db_conn) == GOLDEN_PAIRS
    assert not {p for p in published_problems(db_conn) if p[1] == "n9"}


# --- decisions across imports ----------------------------------------------------------

def test_a_decision_made_before_a_reimport_still_applies_after_it(settings_env, db_conn,
                                                                  tmp_path, app):
    pipeline = publish_golden(settings_env, db_conn, tmp_path)
    user = gen_user(db_conn)
    rejected = record(app, user, "reject", "ch:1:sloid:name", "n2", note="other side")
    missing = record(app, user, "missing_in_osm", "ch:1:sloid:unmatched")
    # the published data shows it at once: the pair is gone, the unmatched stop settled
    assert ("ch:1:sloid:name", "n2") not in published_pairs(db_conn)
    assert ("ch:1:sloid:unmatched", None, "unmatched_official", 1, True) in \
        published_problems(db_conn)

    run = run_inline(settings_env, pipeline)

    assert run["status"] == "succeeded", run["message"]
    assert run["counts"]["decisions_applied"] == 2 and run["counts"]["decisions_flagged"] == 0
    assert published_pairs(db_conn) == GOLDEN_PAIRS - {("ch:1:sloid:name", "n2")}
    problems = published_problems(db_conn)
    # the matcher knows the stop is missing in OSM: no longer a problem at all
    assert not [p for p in problems if p[0] == "ch:1:sloid:unmatched"]
    assert ("ch:1:sloid:name", None, "unmatched_official", 1, False) in problems
    assert decision_status(db_conn, rejected) == ("active", None)
    assert decision_status(db_conn, missing) == ("active", None)
    with db_conn.cursor() as cur:
        cur.execute("SELECT created_by, created_at IS NOT NULL, note FROM stop_decisions "
                    "WHERE id = %s", (rejected,))
        assert cur.fetchone() == (user, True, "other side")


def test_a_decision_whose_evidence_changed_is_flagged_not_applied(settings_env, db_conn,
                                                                  tmp_path, app):
    publish_golden(settings_env, db_conn, tmp_path)
    user = gen_user(db_conn)
    rejected = record(app, user, "reject", "ch:1:sloid:name", "n2")
    gone = record(app, user, "confirm", "ch:1:sloid:trio2", "n7")
    renamed = atlas_file(tmp_path, rename={"ch:1:sloid:name": "By name Nord"},
                         drop=("ch:1:sloid:trio2",))
    pipeline = gen_stops_pipeline(db_conn, "atlas-v2", renamed, format="atlas")

    run = run_inline(settings_env, pipeline)

    assert run["status"] == "succeeded", run["message"]
    assert run["counts"]["decisions_applied"] == 0 and run["counts"]["decisions_flagged"] == 2
    # not silently applied: the matcher pairs the renamed stop again, as without a decision
    assert ("ch:1:sloid:name", "n2") in published_pairs(db_conn)
    status, reason = decision_status(db_conn, rejected)
    assert status == "needs_review"
    assert "official name 'By name' → 'By name Nord'" in reason
    status, reason = decision_status(db_conn, gone)
    assert status == "needs_review" and "ch:1:sloid:trio2 is no longer in the registry" in reason

    # the registry as the reviewer saw it comes back: the decision counts again
    back = run_inline(settings_env, gen_stops_pipeline(db_conn, "atlas-v1", GOLDEN_ATLAS))
    assert back["status"] == "succeeded", back["message"]
    assert decision_status(db_conn, rejected) == ("active", None)
    assert ("ch:1:sloid:name", "n2") not in published_pairs(db_conn)


def test_a_decision_changed_by_a_reviewer_during_the_run_is_left_as_they_wrote_it(
        settings_env, db_conn, tmp_path, app):
    publish_golden(settings_env, db_conn, tmp_path)
    user = gen_user(db_conn)
    first = record(app, user, "reject", "ch:1:sloid:name", "n2")
    from matching_and_import_db.pipelines.base import RunContext
    from matching_and_import_db.stops import pipeline as stops_pipeline
    from matching_and_import_db.stops import store

    with db_conn.cursor() as cur:
        decisions = store.load_decisions(cur)
    db_conn.commit()
    verdict = store.Verdict(decisions[0], "needs_review", "the evidence changed: test")
    # the reviewer supersedes the decision after the run judged it, before reapply
    second = record(app, user, "confirm", "ch:1:sloid:name", "n2")
    ctx = RunContext(run_id=1, pipeline="t", config={}, conn=db_conn, data_dir=str(tmp_path),
                     reporter=_NullReporter(), state={"verdicts": [verdict]})
    stops_pipeline.reapply(ctx)
    assert decision_status(db_conn, first)[0] == "superseded"
    assert decision_status(db_conn, second) == ("active", None)
    assert ctx.counts["decisions_changed"] == 0


class _NullReporter:
    def items(self, done, total=None):
        pass


# --- readers during an import ----------------------------------------------------------

def test_readers_see_the_old_data_until_the_publish_commits_then_the_new(
        settings_env, db_conn, tmp_path, app):
    publish_golden(settings_env, db_conn, tmp_path)
    old_pairs = published_pairs(db_conn)
    new_file = atlas_file(tmp_path, drop=("ch:1:sloid:trio2", "ch:1:sloid:name"))
    new_pairs = old_pairs - {("ch:1:sloid:trio2", "n7"), ("ch:1:sloid:name", "n2")}
    pipeline = gen_stops_pipeline(db_conn, "atlas-v2", new_file, format="atlas")

    seen: list[tuple[int, frozenset]] = []
    stop = threading.Event()

    def read_matches():
        client = app.test_client()  # a client of its own: the API as another reader sees it
        while not stop.is_set():
            body = client.get("/api/stops/matches?limit=1000").get_json()
            pairs = frozenset((m["official_id"], m["osm_key"]) for m in body["matches"])
            seen.append((body["total"], pairs))
            time.sleep(0.02)  # a reader's pace, not a wait for work

    # hold the import inside its publish transaction: its last statement (the publication
    # record) waits for this lock, after matches and problems were deleted and inserted
    holder = psycopg2.connect(settings_env["PORTAL_DATABASE_URL"])
    with holder.cursor() as cur:
        cur.execute("LOCK TABLE stop_publications IN EXCLUSIVE MODE")
    reader = threading.Thread(target=read_matches, daemon=True)
    reader.start()
    result: dict = {}
    runner = threading.Thread(target=lambda: result.update(run_inline(settings_env, pipeline)))
    runner.start()
    try:
        wait_until(lambda: _waiting_on(db_conn, "stop_publications"), 60,
                   message="the import to wait inside its publish transaction")
        during = len(seen)
        # the reader goes on reading while publish is under way
        wait_until(lambda: len(seen) > during + 3, 20, message="reads during publish")
        assert published_pairs(db_conn) == old_pairs
        active = app.test_client().get("/api/pipelines/active").get_json()["active"]
        assert [(a["pipeline"], a["phase"], a["phase_index"], a["phase_count"])
                for a in active] == [("atlas-v2", "publish", 6, 7)]
    finally:
        holder.rollback()  # let the import commit
        holder.close()
        runner.join(60)
    wait_until(lambda: seen[-1][0] == len(new_pairs), 20, message="a read after the commit")
    stop.set()
    reader.join(10)

    assert result["status"] == "succeeded", result["message"]
    totals = [total for total, _pairs in seen]
    assert all(pairs in (old_pairs, new_pairs) for _total, pairs in seen)
    assert all(total == len(pairs) for total, pairs in seen)
    switch = totals.index(len(new_pairs))
    assert switch > 0 and set(totals[:switch]) == {len(old_pairs)}
    assert set(totals[switch:]) == {len(new_pairs)}


def _waiting_on(conn, table: str) -> bool:
    with conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation "
                    "WHERE c.relname = %s AND NOT l.granted", (table,))
        waiting = cur.fetchone()[0] > 0
    conn.commit()
    return waiting


# --- configuration and broken input ----------------------------------------------------

MAPPING = {"id": "code", "name": "name", "lat": "lat", "lon": "lon"}


@pytest.mark.parametrize(("config", "message"), [
    ({}, "needs a 'source'"),
    ({"source": "  "}, "needs a 'source'"),
    ({"source": "x.csv", "format": "xlsx"}, "unknown stops format 'xlsx'"),
    ({"source": "x.csv", "format": "csv"}, "format csv needs a 'mapping'"),
    ({"source": "x.csv", "format": "csv", "mapping": {"id": "a", "colour": "b"}},
     "unknown field(s) in the mapping: colour"),
    ({"source": "x.csv", "format": "atlas", "mapping": {"id": "a"}}, "takes no 'mapping'"),
    ({"source": "x.csv", "osm_within_m": -5}, "osm_within_m must be a distance"),
    ({"source": "x.csv", "osm_within_m": "near"}, "osm_within_m must be a distance"),
    ({"source": "x.csv", "format": "atlas", "crs": "EPSG:2056"}, "format atlas takes no crs"),
    ({"source": "x.csv", "format": "csv", "mapping": MAPPING, "crs": "EPSG:0"},
     "unknown coordinate reference system 'EPSG:0'"),
    ({"source": "x.csv", "format": "csv", "mapping": MAPPING, "level": "pole"},
     "level must be one of place, platform"),
    ({"source": "x.csv", "format": "csv", "mapping": MAPPING, "mode_values": {"1": "car"}},
     "mode_values must map the registry's codes to modes"),
    ({"source": "x.csv", "format": "csv", "mapping": MAPPING, "where": {"active": 1}},
     "where must map columns to the values to keep"),
    ({"source": "x.csv", "coverage": "europe"}, "coverage must be one of osm, all"),
    ({"source": "x.csv", "coverage_margin_m": -1}, "coverage_margin_m must be a distance"),
    ({"source": "x.csv", "countries": "CH"}, "countries must be a list of country codes"),
    ({"source": "x.csv", "stop_points_only": "yes"}, "stop_points_only must be true or false"),
])
def test_bad_configuration_is_refused_naming_the_problem(config, message):
    with pytest.raises(InputError, match=message.replace("(", r"\(").replace(")", r"\)")):
        validate_config(config)


def test_configuration_is_normalised():
    assert validate_config({"source": " /data/a.zip "}) == {"source": "/data/a.zip",
                                                            "format": "auto"}
    mapped = {"source": "s.csv", "format": "csv", "mapping": {"id": "code", "lat": "y",
                                                              "lon": "x"}, "osm_within_m": 500}
    assert validate_config(mapped) == {**mapped, "osm_within_m": 500.0}
    hsl = {"source": "h.csv", "format": "csv", "mapping": {"id": "code", "lat": "y", "lon": "x"},
           "crs": " EPSG:2392 ", "where": {"REI_VOIM": "1"}, "countries": ["ch", "LI "],
           "coverage": "osm", "coverage_margin_m": 50, "stop_points_only": True}
    assert validate_config(hsl) == {**hsl, "crs": "EPSG:2392", "where": {"REI_VOIM": ["1"]},
                                    "countries": ["CH", "LI"], "coverage_margin_m": 50.0}


@pytest.mark.parametrize(("fixture", "fmt"), [
    ("atlas-sample.csv", "atlas"), ("swiss_example_stops_ATLAS.csv", "atlas"),
    ("vvs-bus-751.gtfs.zip", "gtfs"), ("naptan-sample.csv", "naptan"),
    ("nordic-minimal-stops.xml", "netex"), ("nsr-rail-stations-2019.zip", "netex"),
])
def test_registry_format_is_told_from_the_file(fixture, fmt):
    assert detect_format(str(STOPS / fixture)) == fmt


def _missing(tmp_path):
    return tmp_path / "nowhere.csv"


def _empty(tmp_path):
    (tmp_path / "empty.csv").write_bytes(b"")
    return tmp_path / "empty.csv"


def _unknown_csv(tmp_path):
    (tmp_path / "plain.csv").write_text("code,lat,lon\nA,47,8\n")
    return tmp_path / "plain.csv"


def _bad_coordinate(tmp_path):
    return _rewrite(tmp_path / "bad.csv", "47.01;8.0", "47.01;east")


def _rewrite(path, old: str, new: str):
    text = GOLDEN_ATLAS.read_text(encoding="utf-8").replace(old, new, 1)
    path.write_text(text, encoding="utf-8")
    return path


def _no_coordinates(tmp_path):
    lines = GOLDEN_ATLAS.read_text(encoding="utf-8").splitlines()
    rows = [";".join(f if i not in (4, 5) else "" for i, f in enumerate(line.split(";")))
            for line in lines[1:]]
    path = tmp_path / "nocoords.csv"
    path.write_text("\n".join([lines[0], *rows]) + "\n", encoding="utf-8")
    return path


def _twice(tmp_path):
    path = tmp_path / "twice.csv"
    path.write_text("code,name,lat,lon\nA,Dorf,47.0,8.0\nB,Kirche,47.1,8.0\nA,Dorf,47.2,8.0\n")
    return path


@pytest.mark.parametrize(("make_source", "config", "message"), [
    (_missing, {}, "stops file not found"),
    (_empty, {"format": "atlas"}, "empty.csv: the file is empty"),
    (_unknown_csv, {}, "plain.csv line 1: cannot tell the registry format"),
    (_bad_coordinate, {"format": "atlas"}, "bad.csv line 3: wgs84East is not a number"),
    (_no_coordinates, {}, "nocoords.csv holds no usable stops (8 rows skipped)"),
    (_twice, {"format": "csv", "mapping": MAPPING},
     "twice.csv: 1 stop id(s) appear more than once"),
    (_unknown_csv, {"format": "csv", "mapping": {"id": "code", "lat": "y", "lon": "x"}},
     "plain.csv line 1: missing column(s) y, x"),
], ids=["missing", "empty", "unknown-format", "bad-coordinate", "no-coordinates", "twice",
        "wrong-mapping"])
def test_broken_input_fails_the_run_and_keeps_the_published_data(
        settings_env, db_conn, tmp_path, make_source, config, message):
    publish_golden(settings_env, db_conn, tmp_path)
    before = stops_fingerprint(db_conn)

    run = run_inline(settings_env, gen_stops_pipeline(db_conn, "broken",
                                                      make_source(tmp_path), **config))

    assert run["status"] == "failed"
    assert message in run["message"]
    assert stops_fingerprint(db_conn) == before
    with db_conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'staging'")
        assert cur.fetchone()[0] == 0


def test_registry_served_over_http_is_downloaded_and_imported(settings_env, db_conn,
                                                              tmp_path):
    load_golden_osm(settings_env, db_conn, tmp_path)
    served = tmp_path / "served"
    served.mkdir()
    (served / "stops.csv").write_bytes(GOLDEN_ATLAS.read_bytes())
    server, base = serve_directory(served)
    try:
        url = f"{base}/stops.csv"
        run = run_inline(settings_env, gen_stops_pipeline(db_conn, "remote", url))
        missing = run_inline(settings_env, gen_stops_pipeline(db_conn, "gone", url + ".old"))
    finally:
        server.shutdown()
    assert run["status"] == "succeeded", run["message"]
    assert published_pairs(db_conn) == GOLDEN_PAIRS
    assert missing["status"] == "failed" and "404" in missing["message"]


# --- what a row is, and which rows are matched -------------------------------------------

def official_rows(conn) -> dict[str, tuple]:
    with conn.cursor() as cur:
        cur.execute("SELECT stop_id, level, mode, parent_id FROM official_stops")
        rows = {r[0]: r[1:] for r in cur.fetchall()}
    conn.commit()
    return rows


def test_stop_places_platforms_and_modes_are_recorded_from_a_netex_register(
        settings_env, db_conn, tmp_path):
    load_golden_osm(settings_env, db_conn, tmp_path)  # Swiss: nowhere near Oslo
    run = run_inline(settings_env, gen_stops_pipeline(
        db_conn, "nsr", STOPS / "nordic-minimal-stops.xml", coverage="all"))
    assert run["status"] == "succeeded", run["message"]
    assert (run["counts"]["official_read"], run["counts"]["official_places"]) == (24, 8)
    rows = official_rows(db_conn)
    assert Counter(level for level, _, _ in rows.values()) == {"place": 8, "platform": 16}
    assert rows["NSR:Quay:7184"] == ("platform", "metro", "NSR:StopPlace:3990")
    assert rows["NSR:StopPlace:58366"] == ("place", None, None)
    with db_conn.cursor() as cur:
        cur.execute("SELECT format FROM stop_publications")
        assert cur.fetchall() == [("netex",)]
    db_conn.commit()


def test_only_registry_rows_in_the_osm_area_and_asked_for_become_stops_or_problems(
        settings_env, db_conn, tmp_path):
    load_golden_osm(settings_env, db_conn, tmp_path)  # stops along 8.0 E, 47.0 to 47.2 N
    path = tmp_path / "registry.csv"
    path.write_text("code,name,lat,lon,kind,net,country,stop\n"
                    "in,Exact,47.00002,8.0,station,rail,CH,true\n"
                    "edge,Am Rand,47.1,8.0009,,bus,CH,true\n"  # 68 m east of the line
                    "far,Bern,46.95,7.44,,bus,CH,true\n"
                    "li,Schaan,47.1,8.0,,bus,LI,true\n"
                    "depot,Depot,47.05,8.0,,,CH,false\n", encoding="utf-8")
    mapping = {**MAPPING, "level": "kind", "mode": "net", "extra:country": "country",
               "extra:stop_point": "stop"}
    run = run_inline(settings_env, gen_stops_pipeline(
        db_conn, "scoped", path, format="csv", mapping=mapping, countries=["ch"],
        stop_points_only=True))

    assert run["status"] == "succeeded", run["message"]
    counts = run["counts"]
    assert (counts["official_read"], counts["official_in_scope"]) == (5, 2)
    assert (counts["left_out_outside_osm_area"], counts["left_out_other_country"],
            counts["left_out_not_a_stop_point"]) == (1, 1, 1)
    assert official_rows(db_conn) == {"in": ("place", "rail", None),
                                      "edge": ("platform", "bus", None)}
    # the stops left out are no "unmatched official" problems
    assert not {p for p in published_problems(db_conn) if p[0] in ("far", "li", "depot")}

    # a narrower margin leaves the stop beside the OSM data out too
    run = run_inline(settings_env, gen_stops_pipeline(
        db_conn, "narrow", path, format="csv", mapping=mapping, coverage_margin_m=20))
    assert run["status"] == "succeeded", run["message"]
    assert run["counts"]["left_out_outside_osm_area"] == 2
    assert set(official_rows(db_conn)) == {"in", "li", "depot"}


def test_a_registry_wholly_outside_the_osm_area_fails_and_keeps_the_published_data(
        settings_env, db_conn, tmp_path):
    publish_golden(settings_env, db_conn, tmp_path)
    before = stops_fingerprint(db_conn)
    run = run_inline(settings_env, gen_stops_pipeline(
        db_conn, "oslo", STOPS / "nordic-minimal-stops.xml"))
    assert run["status"] == "failed"
    assert ("none of its 24 stops is in scope (24 outside osm area); is the OSM data of the "
            "same area?") in run["message"]
    assert stops_fingerprint(db_conn) == before


def test_atlas_service_points_are_published_as_stop_places_with_their_operator(
        settings_env, db_conn, tmp_path):
    load_golden_osm(settings_env, db_conn, tmp_path)
    path = tmp_path / "service_points.csv"
    path.write_text("\n".join([
        SERVICE_POINT_HEADER,
        service_point(sloid="ch:1:sloid:10", designationOfficial="Exact", wgs84East="8.0",
                      wgs84North="47.0", meansOfTransport="BUS"),
        service_point(sloid="ch:1:sloid:11", designationOfficial="Werkhof", wgs84East="8.0",
                      wgs84North="47.05", stopPoint="false"),
        service_point(sloid="ch:1:sloid:12", designationOfficial="Grenze", wgs84East="8.0",
                      wgs84North="47.06", isoCountryCode="DE")]) + "\n", encoding="utf-8")
    run = run_inline(settings_env, gen_stops_pipeline(
        db_conn, "atlas-sp", path, stop_points_only=True, countries=["CH", "LI"]))
    assert run["status"] == "succeeded", run["message"]
    assert (run["counts"]["official_places"], run["counts"]["left_out_not_a_stop_point"],
            run["counts"]["left_out_other_country"]) == (3, 1, 1)
    with db_conn.cursor() as cur:
        cur.execute("SELECT stop_id, level, mode, operator FROM official_stops")
        assert cur.fetchall() == [("ch:1:sloid:10", "place", "bus", "SBB")]
    db_conn.commit()


def test_a_publish_shows_on_the_cached_stop_tiles_at_once(settings_env, db_conn, tmp_path,
                                                          client, redis):
    publish_golden(settings_env, db_conn, tmp_path)
    with db_conn.cursor() as cur:
        cur.execute("SELECT ST_X(geom), ST_Y(geom) FROM official_stops "
                    "WHERE stop_id = 'ch:1:sloid:name'")
        z, x, y = tile_of(*cur.fetchone(), 16)
    db_conn.commit()
    path = f"/tiles/official_stops/{z}/{x}/{y}.mvt"

    def names() -> set[str]:
        tile = mapbox_vector_tile.decode(client.get(path).data)
        return {f["properties"].get("name") for f in tile["official_stops"]["features"]}

    assert "By name" in names()
    # cached like the others
    assert redis.exists(cached_tile_key(redis, "official_stops", z, x, y))
    renamed = atlas_file(tmp_path, rename={"ch:1:sloid:name": "By name Nord"})
    run = run_inline(settings_env, gen_stops_pipeline(db_conn, "atlas-v2", renamed))
    assert run["status"] == "succeeded", run["message"]
    assert "By name Nord" in names() and "By name" not in names()
