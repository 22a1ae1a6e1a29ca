"""The open stops API: matches, problems and statistics with bbox and paging, CSV and
GeoJSON exports that parse, and a 400 with a message for every bad parameter."""

from __future__ import annotations

import csv
import io

import pytest

from matching_and_import_db.stops.matching import DEFAULT_PROFILE
from tests.stops_helpers import GOLDEN_PAIRS, gen_user, record

# every official stop of the golden case lies at 8.0 E between 47.0 and 47.1 N
SOUTH = "7.9,46.99,8.1,47.015"  # exact (47.0) and name (47.01)


def test_matches_are_paged_with_next_links_until_all_are_seen(client, golden):
    seen, url, pages = [], "/api/stops/matches?limit=3", 0
    while url:
        body = client.get(url).get_json()
        assert body["total"] == len(GOLDEN_PAIRS) and body["limit"] == 3
        assert len(body["matches"]) == min(3, body["total"] - body["offset"])
        seen += [(m["official_id"], m["osm_key"]) for m in body["matches"]]
        url, pages = body["next"], pages + 1
    assert pages == 3 and len(seen) == len(set(seen)) and set(seen) == GOLDEN_PAIRS
    assert seen == sorted(seen)


def test_a_match_carries_both_positions_its_method_and_the_profile(client, golden):
    body = client.get("/api/stops/matches?limit=1").get_json()
    first = body["matches"][0]
    assert (first["official_id"], first["osm_key"]) == ("ch:1:sloid:duplicate1", "n4")
    assert first["official"] == [8.0, 47.03] and first["osm"] == [8.0, 47.03001]
    assert first["stage"] == "identifier" and first["method"] == "uic_ref+local_ref"
    assert first["profile_version"] == DEFAULT_PROFILE.version and first["distance_m"] > 1
    assert body["next"] == "http://localhost/api/stops/matches?limit=1&offset=1"
    past = client.get("/api/stops/matches?offset=50").get_json()
    assert past["matches"] == [] and past["next"] is None and past["total"] == 8


def test_bbox_limits_matches_problems_and_statistics(client, golden):
    matches = client.get(f"/api/stops/matches?bbox={SOUTH}").get_json()
    assert {(m["official_id"], m["osm_key"]) for m in matches["matches"]} == {
        ("ch:1:sloid:exact", "n1"), ("ch:1:sloid:name", "n2")}
    problems = client.get("/api/stops/problems?bbox=7.9,47.15,8.1,47.25").get_json()
    assert [(p["type"], p["osm_key"]) for p in problems["problems"]] == [("unmatched_osm", "n9")]
    stats = client.get(f"/api/stops/statistics?bbox={SOUTH}").get_json()
    assert (stats["official_stops"], stats["matches"], stats["problems"]["open"]) == (2, 2, 0)
    assert stats["bbox"] == [7.9, 46.99, 8.1, 47.015]


def test_problems_filter_by_type_priority_and_status(client, golden, db_conn, app):
    body = client.get("/api/stops/problems").get_json()
    assert body["total"] == 5 and [p["priority"] for p in body["problems"]] == [1, 2, 2, 2, 2]
    unmatched = body["problems"][0]
    assert unmatched["type"] == "unmatched_official" and unmatched["status"] == "open"
    assert unmatched["official"]["name"] == "Unmatched" and unmatched["osm"] is None
    # the golden registry is the minimal traffic-point shape: platforms, mode unknown
    assert (unmatched["official"]["level"], unmatched["official"]["mode"]) == ("platform", None)
    assert unmatched["evidence"]["nearest"] == []
    only = client.get("/api/stops/problems?type=attribute_mismatch").get_json()
    assert [(p["official_id"], p["osm_key"]) for p in only["problems"]] == [
        ("ch:1:sloid:route", "n3")]
    assert only["problems"][0]["osm"]["name"] == "Different route name"
    assert client.get("/api/stops/problems?priority=1").get_json()["total"] == 1

    decision = record(app, gen_user(db_conn), "missing_in_osm", "ch:1:sloid:unmatched",
                      note="not in the public API")
    assert client.get("/api/stops/problems").get_json()["total"] == 4
    resolved = client.get("/api/stops/problems?status=resolved").get_json()["problems"]
    assert [p["resolved_by"] for p in resolved] == [{"decision_id": decision,
                                                     "action": "missing_in_osm"}]
    assert "not in the public API" not in client.get("/api/stops/problems?status=all").text
    assert client.get("/api/stops/problems?status=all").get_json()["total"] == 5


def test_statistics_count_matches_problems_and_name_the_last_import(client, golden, db_conn,
                                                                   app):
    record(app, gen_user(db_conn), "reject", "ch:1:sloid:name", "n2")
    stats = client.get("/api/stops/statistics").get_json()
    assert stats["official_stops"] == 8 and stats["matches"] == 7
    assert stats["matched_official_stops"] == 6
    assert stats["matches_by_stage"] == {"assignment": 1, "identifier": 4, "propagation": 2}
    assert stats["problems"]["open"] == 5 and stats["problems"]["resolved"] == 0
    assert stats["problems"]["by_type"]["unmatched_osm"] == {"open": 1, "resolved": 0}
    assert stats["problems"]["open_by_area"]["47.20,8.00"] == {"unmatched_osm": 1}
    assert stats["decisions"] == {"active": 1}
    last = stats["last_import"]
    assert (last["pipeline"], last["format"], last["profile_version"]) == (
        "atlas", "atlas", DEFAULT_PROFILE.version)
    assert last["counts"]["matches"] == 8 and "published_at" in last


def test_matches_export_as_csv_and_geojson(client, golden):
    resp = client.get("/api/stops/matches.csv")
    assert resp.status_code == 200 and resp.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(resp.text)))
    assert {(r["official_id"], r["osm_key"]) for r in rows} == GOLDEN_PAIRS
    assert {float(r["official_lon"]) for r in rows} == {8.0}

    resp = client.get(f"/api/stops/matches.geojson?bbox={SOUTH}")
    assert resp.mimetype == "application/geo+json"
    collection = resp.get_json()
    assert collection["type"] == "FeatureCollection"
    assert sorted(f["id"] for f in collection["features"]) == [
        "ch:1:sloid:exact|n1", "ch:1:sloid:name|n2"]
    feature = collection["features"][0]
    assert feature["geometry"]["type"] == "LineString"
    assert len(feature["geometry"]["coordinates"]) == 2
    assert feature["properties"]["method"]


def test_problems_export_as_csv_and_geojson(client, golden):
    rows = list(csv.DictReader(io.StringIO(client.get("/api/stops/problems.csv").text)))
    assert len(rows) == 5 and {r["status"] for r in rows} == {"open"}
    assert {r["type"] for r in rows} == {"unmatched_official", "unmatched_osm",
                                         "attribute_mismatch", "duplicates"}
    route = next(r for r in rows if r["type"] == "attribute_mismatch")
    assert '"attribute":"name"' in route["evidence"]
    collection = client.get("/api/stops/problems.geojson?type=duplicates").get_json()
    assert len(collection["features"]) == 2
    assert {f["geometry"]["type"] for f in collection["features"]} == {"Point"}
    assert {f["properties"]["official_id"] for f in collection["features"]} == {
        "ch:1:sloid:duplicate1"}


def test_an_empty_database_answers_empty_lists_not_errors(client, settings_env):
    assert client.get("/api/stops/matches").get_json() == {
        "total": 0, "limit": 100, "offset": 0, "next": None, "matches": []}
    stats = client.get("/api/stops/statistics").get_json()
    assert stats["official_stops"] == 0 and stats["last_import"] is None
    assert client.get("/api/stops/problems.csv").text.startswith("id,type,priority")


@pytest.mark.parametrize(("url", "message"), [
    ("/api/stops/matches?bbox=8,47,9", "bbox must be four numbers"),
    ("/api/stops/matches?bbox=9,47,8,48", "with min < max"),
    ("/api/stops/matches?limit=0", "limit must be between 1 and 1000"),
    ("/api/stops/matches?limit=5000", "limit must be between 1 and 1000"),
    ("/api/stops/matches?limit=ten", "limit must be a whole number"),
    ("/api/stops/matches?offset=-1", "offset must be between 0"),
    ("/api/stops/problems?type=broken", "unknown problem type 'broken'"),
    ("/api/stops/problems?priority=9", "priority must be between 1 and 3"),
    ("/api/stops/problems?status=closed", "status must be one of open, resolved, all"),
    ("/api/stops/statistics?bbox=a,b,c,d", "bbox must be four numbers"),
    ("/api/stops/matches.xlsx", "unknown export format 'xlsx'"),
    ("/api/stops/problems.csv?bbox=1", "bbox must be four numbers"),
])
def test_bad_parameters_answer_400_with_a_message(client, settings_env, url, message):
    resp = client.get(url)
    assert resp.status_code == 400
    error = resp.get_json()["error"]
    assert error["code"] == "invalid_input" and message in error["message"]
