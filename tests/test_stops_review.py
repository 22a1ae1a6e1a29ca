"""Reviewing stop problems as an operator, logged in through the real OIDC provider: the
problems page with its filters and map data, decisions recorded by its forms (who and
when), their effect on the published data, and the decisions page. Others get 404."""

from __future__ import annotations

import html
import json
import re

import mapbox_vector_tile
import pytest

from matching_and_import_db.stops.model import DECISION_ACTIONS, MATCHER_ACTIONS
from tests.conftest import csrf_token, login
from tests.osm_helpers import cached_tile_key, run_inline, tile_of
from tests.stops_helpers import (
    atlas_file,
    decision_status,
    gen_stops_pipeline,
    publish_golden_with_a_renamed_stop,
    published_pairs,
    published_problems,
)


@pytest.fixture
def operator(client, oidc_provider):
    login(client, oidc_provider, "olga", ["operator"])
    return client


def decide(client, **form):
    token = csrf_token(client, "/stops/problems")
    return client.post("/stops/decisions",
                       data={"csrf_token": token, "next": "/stops/problems?type=too_far",
                             **form})


def problem_ids(page: str) -> list[int]:
    data = page.split('<script type="application/json" id="stops-data">')[1]
    return [p["id"] for p in json.loads(html.unescape(data.split("</script>")[0]))]


def user_id(db_conn, sub: str) -> int:
    with db_conn.cursor() as cur:
        cur.execute("SELECT id FROM users WHERE subject = %s", (sub,))
        found = cur.fetchone()[0]
    db_conn.commit()
    return found


def test_a_plain_user_gets_404_and_a_visitor_is_sent_to_log_in(client, oidc_provider, golden,
                                                               db_conn):
    assert client.get("/stops/problems").status_code == 302
    login(client, oidc_provider, "ulla", ["user"])
    assert client.get("/stops/problems").status_code == 404
    assert client.get("/stops/decisions").status_code == 404
    token = csrf_token(client)
    resp = client.post("/stops/decisions", data={"csrf_token": token, "action": "reject",
                                                 "official_id": "ch:1:sloid:name",
                                                 "osm_key": "n2"})
    assert resp.status_code == 404
    assert ("ch:1:sloid:name", "n2") in published_pairs(db_conn)
    assert 'href="/stops/problems"' not in client.get("/").data.decode()


def test_problems_page_lists_problems_with_both_sides_and_filters(operator, golden):
    page = operator.get("/stops/problems").data.decode()
    assert 'href="/stops/problems">Stops</a>' in page  # the nav link operators get
    assert len(problem_ids(page)) == 5
    assert "Source route name" in page and "Different route name" in page
    assert "https://www.openstreetmap.org/node/3" in page
    assert 'value="attribute:osm"' in page and 'value="missing_in_osm"' in page

    only = operator.get("/stops/problems?type=attribute_mismatch").data.decode()
    assert len(problem_ids(only)) == 1 and "name is right" in only
    assert len(problem_ids(operator.get("/stops/problems?priority=1").data.decode())) == 1
    found = operator.get("/stops/problems?q=route+NAME").data.decode()
    assert len(problem_ids(found)) == 1
    assert len(problem_ids(operator.get("/stops/problems?q=n9").data.decode())) == 1
    # the far OSM stop n9 lies at 47.2 N: a box around the others leaves it out
    boxed = operator.get("/stops/problems?bbox=7.9,46.9,8.1,47.15").data.decode()
    assert len(problem_ids(boxed)) == 4
    assert len(problem_ids(operator.get("/stops/problems?area=47.20,8.00").data.decode())) == 1
    assert operator.get("/stops/problems?type=nonsense").status_code == 400
    assert operator.get("/stops/problems?bbox=1,2,3").status_code == 400


def test_rejecting_a_match_records_who_and_when_and_takes_effect(operator, golden, db_conn):
    resp = decide(operator, action="reject", official_id="ch:1:sloid:name", osm_key="n2",
                  note="platform A is across the road")
    assert resp.status_code == 302
    assert resp.headers["Location"].endswith("/stops/problems?type=too_far")
    assert ("ch:1:sloid:name", "n2") not in published_pairs(db_conn)
    with db_conn.cursor() as cur:
        cur.execute("SELECT action, official_id, osm_key, status, created_by, "
                    "created_at > now() - interval '1 minute', evidence -> 'official' ->> "
                    "'name', evidence ->> 'distance_m', note FROM stop_decisions")
        assert cur.fetchall() == [("reject", "ch:1:sloid:name", "n2", "active",
                                   user_id(db_conn, "olga"), True, "By name", "1",
                                   "platform A is across the road")]
    page = operator.get("/stops/decisions").data.decode()
    assert "Olga" in page and "platform A is across the road" in page


def test_which_side_is_right_settles_the_attribute_problem(operator, golden, db_conn):
    resp = decide(operator, action="attribute:osm", attribute="name",
                  official_id="ch:1:sloid:route", osm_key="n3")
    assert resp.status_code == 302
    assert ("ch:1:sloid:route", "n3", "attribute_mismatch", 2, True) in \
        published_problems(db_conn)
    assert len(problem_ids(operator.get("/stops/problems").data.decode())) == 4
    assert len(problem_ids(operator.get("/stops/problems?status=resolved").data.decode())) == 1
    with db_conn.cursor() as cur:
        cur.execute("SELECT action, attribute, side FROM stop_decisions")
        assert cur.fetchall() == [("attribute", "name", "osm")]


def test_missing_and_manual_decisions_settle_unmatched_stops(operator, golden, db_conn):
    assert decide(operator, action="missing_in_registry", osm_key="node/9").status_code == 302
    assert decide(operator, action="manual", official_id="ch:1:sloid:unmatched",
                  osm_key="https://www.openstreetmap.org/node/8").status_code == 302
    problems = published_problems(db_conn)
    assert (None, "n9", "unmatched_osm", 2, True) in problems
    assert ("ch:1:sloid:unmatched", None, "unmatched_official", 1, True) in problems
    with db_conn.cursor() as cur:
        cur.execute("SELECT method, stage, round(distance_m) FROM stop_matches "
                    "WHERE official_id = 'ch:1:sloid:unmatched'")
        assert cur.fetchall() == [("manual", "decision", 6665)]
    db_conn.commit()


def test_a_stop_renamed_in_osm_is_offered_and_paired_in_one_click(operator, settings_env,
                                                                  db_conn, tmp_path):
    """The problem of a stop renamed in OSM offers the platform, and its button makes the
    manual pair."""
    publish_golden_with_a_renamed_stop(settings_env, db_conn, tmp_path)
    assert ("ch:1:sloid:renamed", None, "unmatched_official", 1, False) in \
        published_problems(db_conn)
    page = operator.get("/stops/problems?q=Bahnhofstrasse").data.decode()
    offer = page.split('class="renamed-suggestion"')[1].split("</form>")[0]
    assert "Probably renamed" in offer and "Unmatched OSM" in offer and "3.3 m" in offer
    data = page.split('<script type="application/json" id="stops-data">')[1]
    [item] = json.loads(html.unescape(data.split("</script>")[0]))
    assert item["offer"] == [8.0, 47.2]  # the map draws the offered platform and the pair
    fields = dict(re.findall(r'name="(\w+)" value="([^"]*)"', offer))
    assert fields["official_id"] == "ch:1:sloid:renamed" and fields["osm_key"] == "n9"
    resp = operator.post("/stops/decisions", data={**fields, "action": "manual"})
    assert resp.status_code == 302
    assert ("ch:1:sloid:renamed", "n9") in published_pairs(db_conn)
    assert ("ch:1:sloid:renamed", None, "unmatched_official", 1, True) in \
        published_problems(db_conn)
    # the problem is resolved: its offer is gone from the page
    page = operator.get("/stops/problems?q=Bahnhofstrasse&status=resolved").data.decode()
    assert "renamed-suggestion" not in page


def test_a_new_decision_on_a_pair_supersedes_the_last(operator, golden, db_conn):
    decide(operator, action="reject", official_id="ch:1:sloid:route", osm_key="n3")
    decide(operator, action="confirm", official_id="ch:1:sloid:route", osm_key="n3")
    with db_conn.cursor() as cur:
        cur.execute("SELECT action, status FROM stop_decisions ORDER BY id")
        assert cur.fetchall() == [("reject", "superseded"), ("confirm", "active")]
        cur.execute("SELECT method, stage FROM stop_matches WHERE official_id = "
                    "'ch:1:sloid:route'")
        # the rejected pair left the matches; confirming it brings it back with the next import
        assert cur.fetchall() == []
    db_conn.commit()


@pytest.mark.parametrize(("form", "status", "message"), [
    ({"action": "approve", "official_id": "ch:1:sloid:name", "osm_key": "n2"}, 400,
     "unknown action 'approve'"),
    ({"action": "reject", "official_id": "ch:1:sloid:name"}, 400, "needs both"),
    ({"action": "manual", "official_id": "ch:1:sloid:name", "osm_key": "relation/5"}, 400,
     "is not an OSM node or way"),
    ({"action": "reject", "official_id": "ch:1:sloid:nowhere", "osm_key": "n2"}, 404,
     "no official stop"),
    ({"action": "manual", "official_id": "ch:1:sloid:name", "osm_key": "n404"}, 404,
     "no OSM stop n404"),
    ({"action": "attribute", "official_id": "ch:1:sloid:name", "osm_key": "n2",
      "attribute": "colour", "side": "osm"}, 400, "say which attribute"),
    ({"action": "note", "official_id": "ch:1:sloid:name"}, 400, "write the note first"),
])
def test_bad_decisions_are_refused_naming_the_problem(operator, golden, db_conn, form, status,
                                                      message):
    resp = decide(operator, **form)
    assert resp.status_code == status
    assert message in html.unescape(resp.data.decode())
    with db_conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM stop_decisions")
        assert cur.fetchone()[0] == 0
    db_conn.commit()


def test_a_decision_without_csrf_token_is_refused(operator, golden, db_conn):
    resp = operator.post("/stops/decisions", data={"action": "reject", "osm_key": "n2",
                                                   "official_id": "ch:1:sloid:name"})
    assert resp.status_code == 400
    assert ("ch:1:sloid:name", "n2") in published_pairs(db_conn)


def test_flagged_decisions_come_first_and_can_be_kept_or_withdrawn(
        operator, golden, settings_env, db_conn, tmp_path):
    decide(operator, action="note", official_id="ch:1:sloid:exact", note="checked on site")
    decide(operator, action="reject", official_id="ch:1:sloid:name", osm_key="n2")
    renamed = atlas_file(tmp_path, rename={"ch:1:sloid:name": "By name Nord"})
    run = run_inline(settings_env, gen_stops_pipeline(db_conn, "atlas-v2", renamed))
    assert run["status"] == "succeeded", run["message"]

    problems_page = operator.get("/stops/problems").data.decode()
    assert "1 decision needs review" in problems_page
    page = operator.get("/stops/decisions").data.decode()
    assert page.index("By name Nord") < page.index("checked on site")  # flagged first
    assert "needs review" in page

    token = csrf_token(operator, "/stops/decisions")
    resp = operator.post("/stops/decisions/2/keep", data={"csrf_token": token,
                                                          "next": "/stops/decisions"})
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/stops/decisions")
    assert decision_status(db_conn, 2) == ("active", None)
    assert ("ch:1:sloid:name", "n2") not in published_pairs(db_conn)
    with db_conn.cursor() as cur:
        cur.execute("SELECT evidence -> 'official' ->> 'name', updated_by FROM stop_decisions "
                    "WHERE id = 2")
        assert cur.fetchone() == ("By name Nord", user_id(db_conn, "olga"))
    db_conn.commit()

    assert operator.post("/stops/decisions/1/withdraw",
                         data={"csrf_token": token}).status_code == 302
    assert decision_status(db_conn, 1)[0] == "withdrawn"
    assert operator.post("/stops/decisions/1/withdraw",
                         data={"csrf_token": token}).status_code == 409
    assert operator.post("/stops/decisions/99/keep", data={"csrf_token": token}).status_code \
        == 404


def stop_tile(client, db_conn, redis, layer: str, official_id: str, z: int = 16) -> list:
    """The features of `layer` in the tile over an official stop, checking that the tile
    is (now) cached: every stop layer is served from the cache like the others."""
    with db_conn.cursor() as cur:
        cur.execute("SELECT ST_X(geom), ST_Y(geom) FROM official_stops WHERE stop_id = %s",
                    (official_id,))
        lon, lat = cur.fetchone()
    db_conn.commit()
    z, x, y = tile_of(lon, lat, z)
    resp = client.get(f"/tiles/{layer}/{z}/{x}/{y}.mvt")
    assert resp.status_code == 200
    assert redis.exists(cached_tile_key(redis, layer, z, x, y))
    return mapbox_vector_tile.decode(resp.data).get(layer, {"features": []})["features"]


def test_a_decision_shows_on_the_cached_stop_tiles_at_once(operator, golden, db_conn, redis):
    def pairs():
        return {(f["properties"]["official_id"], f["properties"]["osm_key"])
                for f in stop_tile(operator, db_conn, redis, "stop_matches", "ch:1:sloid:name")}

    def mismatch_resolved():
        return [f["properties"]["resolved"]
                for f in stop_tile(operator, db_conn, redis, "stop_problems", "ch:1:sloid:route")
                if f["properties"]["type"] == "attribute_mismatch"]

    assert ("ch:1:sloid:name", "n2") in pairs()
    assert ("ch:1:sloid:name", "n2") in pairs()  # now from the cache
    assert mismatch_resolved() == [False]

    assert decide(operator, action="reject", official_id="ch:1:sloid:name",
                  osm_key="n2").status_code == 302
    assert ("ch:1:sloid:name", "n2") not in pairs()

    assert decide(operator, action="attribute:osm", attribute="name",
                  official_id="ch:1:sloid:route", osm_key="n3").status_code == 302
    assert mismatch_resolved() == [True]
    with db_conn.cursor() as cur:
        cur.execute("SELECT id FROM stop_decisions WHERE action = 'attribute'")
        decision_id = cur.fetchone()[0]
    db_conn.commit()
    token = csrf_token(operator, "/stops/decisions")
    assert operator.post(f"/stops/decisions/{decision_id}/withdraw",
                         data={"csrf_token": token}).status_code == 302
    assert mismatch_resolved() == [False]


def test_the_decisions_table_accepts_exactly_the_one_decision_vocabulary(db_conn):
    with db_conn.cursor() as cur:
        cur.execute("SELECT pg_get_constraintdef(oid) FROM pg_constraint "
                    "WHERE conname = 'ck_stop_decisions_action'")
        (definition,) = cur.fetchone()
    db_conn.rollback()
    assert sorted(set(re.findall(r"'(\w+)'", definition))) == sorted(DECISION_ACTIONS)
    assert set(MATCHER_ACTIONS) <= set(DECISION_ACTIONS)
