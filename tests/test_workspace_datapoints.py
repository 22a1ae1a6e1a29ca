"""Datapoints pushed into a workspace's dataset: the three body shapes, Akvo Flow's shape as
it is, idempotent by identifier with the newer modification time winning, per-item errors,
deletes, row-level security, and a map's tiles following the data."""

from __future__ import annotations

import json

import mapbox_vector_tile
import psycopg2
import pytest

from matching_and_import_db.workspaces.datapoints import read_batch
from tests.conftest import make_app
from tests.osm_helpers import tile_of
from tests.workspace_helpers import bearer

PUSH = "/api/workspaces/alpha/datasets/wells/datapoints"
# Akvo Flow's datapoint as its sync sends it (camelCase, epoch milliseconds, answers)
FLOW_POINT = {"identifier": "a1b2-c3d4-e5f6", "surveyId": 1234001, "formId": 2345001,
              "displayName": "Well at Tøyen", "latitude": 59.9149, "longitude": 10.7732,
              "createdAt": 1700000000000, "lastUpdateDateTime": 1700000500000,
              "answers": {"status": "working", "depth_m": 12}}


def push(client, token, body, content_type="application/json", path=PUSH):
    data = body if isinstance(body, str | bytes) else json.dumps(body)
    return client.post(path, data=data, content_type=content_type, headers=bearer(token))


def rows(database_url):
    conn = psycopg2.connect(database_url)
    with conn, conn.cursor() as cur:
        cur.execute("SELECT set_config('portal.workspace_id', id::text, true) FROM workspaces "
                    "WHERE slug = 'alpha'")
        cur.execute("SELECT identifier, name, survey_id, modified_at, properties, "
                    "ST_X(geom), ST_Y(geom), xmin::text FROM workspace_datapoints "
                    "ORDER BY identifier")
        out = cur.fetchall()
    conn.close()
    return out


def test_akvo_flow_datapoint_is_accepted_as_flow_sends_it(ws_world, settings_env):
    client = ws_world.app.test_client()
    resp = push(client, ws_world.tokens["alpha-sync"], [FLOW_POINT])
    assert resp.status_code == 200, resp.json
    assert resp.json["accepted"] == 1 and resp.json["changed"] == 1
    [(identifier, name, survey, modified, props, lon, lat, _)] = rows(
        settings_env["PORTAL_DATABASE_URL"])
    assert (identifier, name, survey) == ("a1b2-c3d4-e5f6", "Well at Tøyen", "1234001")
    assert props == {"status": "working", "depth_m": 12}
    assert (round(lon, 4), round(lat, 4)) == (10.7732, 59.9149)
    assert modified.timestamp() == 1700000500


def test_the_same_batch_twice_leaves_the_same_data(ws_world, settings_env):
    client = ws_world.app.test_client()
    batch = [dict(FLOW_POINT, identifier=f"p{i}", latitude=59.91 + i / 1000) for i in range(50)]
    first = push(client, ws_world.tokens["alpha-sync"], batch)
    before = rows(settings_env["PORTAL_DATABASE_URL"])
    second = push(client, ws_world.tokens["alpha-sync"], batch)
    assert first.json["changed"] == 50 and second.json["changed"] == 0
    assert rows(settings_env["PORTAL_DATABASE_URL"]) == before  # not even row versions


def test_a_newer_modification_wins_and_an_older_one_changes_nothing(ws_world, settings_env):
    client = ws_world.app.test_client()
    token = ws_world.tokens["alpha-sync"]
    push(client, token, [FLOW_POINT])
    older = dict(FLOW_POINT, displayName="old", lastUpdateDateTime=1700000400000)
    assert push(client, token, [older]).json["changed"] == 0
    newer = dict(FLOW_POINT, displayName="new", lastUpdateDateTime=1700000600000)
    assert push(client, token, [newer]).json["changed"] == 1
    assert rows(settings_env["PORTAL_DATABASE_URL"])[0][1] == "new"


def test_geojson_and_ndjson_bodies(ws_world, settings_env):
    client = ws_world.app.test_client()
    token = ws_world.tokens["alpha-sync"]
    collection = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "id": "f1",
         "geometry": {"type": "Point", "coordinates": [10.77, 59.91]},
         "properties": {"lastUpdateDateTime": "2026-11-30T10:00:00Z", "status": "dry"}}]}
    assert push(client, token, collection).json["accepted"] == 1
    ndjson = "\n".join(json.dumps(dict(FLOW_POINT, identifier=f"n{i}")) for i in range(3))
    assert push(client, token, ndjson, "application/x-ndjson").json["accepted"] == 3
    identifiers = [r[0] for r in rows(settings_env["PORTAL_DATABASE_URL"])]
    assert identifiers == ["f1", "n0", "n1", "n2"]


@pytest.mark.parametrize("item, message", [
    ({"latitude": 59.9, "longitude": 10.7, "lastUpdateDateTime": 1}, "identifier is missing"),
    ({"identifier": "x", "latitude": 95, "longitude": 10.7, "lastUpdateDateTime": 1},
     "latitude must lie within"),
    ({"identifier": "x", "latitude": 59.9, "longitude": "east", "lastUpdateDateTime": 1},
     "longitude is not a number"),
    ({"identifier": "x", "latitude": 59.9, "longitude": 10.7}, "modification time"),
    ({"identifier": "x", "latitude": 59.9, "longitude": 10.7, "lastUpdateDateTime": "soon"},
     "not an ISO 8601 time"),
    ("a string", "must be a JSON object"),
    (dict(FLOW_POINT, identifier="nul", answers={"note": "a\u0000b"}), "NUL"),
])
def test_bad_items_get_their_own_error_and_the_good_ones_are_committed(
        ws_world, settings_env, item, message):
    client = ws_world.app.test_client()
    resp = push(client, ws_world.tokens["alpha-sync"], [FLOW_POINT, item])
    assert resp.status_code == 200
    assert resp.json["accepted"] == 1 and resp.json["rejected"] == 1
    [error] = resp.json["errors"]
    assert error["index"] == 1 and message in error["error"]
    assert len(rows(settings_env["PORTAL_DATABASE_URL"])) == 1


def test_a_body_that_is_not_json_is_refused_naming_the_problem(ws_world, settings_env):
    resp = push(ws_world.app.test_client(), ws_world.tokens["alpha-sync"], "{not json")
    assert resp.status_code == 400 and "not JSON" in resp.json["error"]["message"]
    assert rows(settings_env["PORTAL_DATABASE_URL"]) == []


@pytest.mark.parametrize("body, problem", [
    ('[{"identifier": "x", "latitude": NaN, "longitude": 10.7, "lastUpdateDateTime": 1}]',
     "not JSON"),  # PostgreSQL's jsonb has no NaN: refused before anything is written
    ('[{"identifier": "\\ud800", "latitude": 59.9, "longitude": 10.7, '
     '"lastUpdateDateTime": 1}]', "surrogate"),
])
def test_json_that_postgresql_cannot_store_is_refused_naming_the_problem(
        ws_world, settings_env, body, problem):
    resp = push(ws_world.app.test_client(), ws_world.tokens["alpha-sync"], body)
    assert resp.status_code == 400 and problem in resp.json["error"]["message"]
    assert rows(settings_env["PORTAL_DATABASE_URL"]) == []


def test_a_property_integer_beyond_64_bits_is_the_items_error():
    # orjson never reads one (it reads such a number as a float, as JavaScript does), but
    # the domain function may be handed one; it cannot be written, so the item is refused
    batch = read_batch([FLOW_POINT, dict(FLOW_POINT, identifier="big",
                                         answers={"count": 2 ** 70})])
    assert [p.identifier for p in batch.items] == [FLOW_POINT["identifier"]]
    assert [(e.index, e.identifier) for e in batch.errors] == [(1, "big")]
    assert "beyond 64 bits" in batch.errors[0].message


def test_without_the_workspace_set_a_query_sees_nothing(ws_world, settings_env):
    push(ws_world.app.test_client(), ws_world.tokens["alpha-sync"], [FLOW_POINT])
    conn = psycopg2.connect(settings_env["PORTAL_DATABASE_URL"])  # the app's own role
    with conn, conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM workspace_datapoints")
        assert cur.fetchone()[0] == 0
        cur.execute("SELECT count(*) FROM workspace_datasets")
        assert cur.fetchone()[0] == 0
        cur.execute("SELECT set_config('portal.workspace_id', id::text, true) FROM workspaces "
                    "WHERE slug = 'beta'")
        cur.execute("SELECT count(*) FROM workspace_datapoints")
        assert cur.fetchone()[0] == 0  # another workspace's rows stay invisible
        with pytest.raises(psycopg2.errors.InsufficientPrivilege):  # and cannot be written
            cur.execute("INSERT INTO workspace_datasets (workspace_id, slug, title) "
                        "SELECT id, 'x', 'x' FROM workspaces WHERE slug = 'alpha'")
    conn.close()


MAP = {"slug": "wells", "title": "Wells", "minzoom": 0, "maxzoom": 20, "layers": [
    {"id": "working", "dataset": "wells", "properties": ["name", "status"],
     "filters": [{"property": "status", "op": "eq", "value": "working"}],
     "style": {"type": "circle", "paint": {"circle-color": "#1f78b4"}}}]}


def tile_features(client, z=15, lon=10.7732, lat=59.9149, path="/w/alpha/maps/wells"):
    _, x, y = tile_of(lon, lat, z)
    resp = client.get(f"{path}/tiles/{z}/{x}/{y}.mvt")
    assert resp.status_code == 200, resp.data
    return [f for layer in mapbox_vector_tile.decode(resp.data).values()
            for f in layer["features"]]


def test_a_delete_removes_the_point_from_the_maps_tiles(ws_world):
    client = ws_world.app.test_client()
    token = ws_world.tokens["alpha-sync"]
    dry = dict(FLOW_POINT, identifier="dry-one", answers={"status": "dry"})
    push(client, token, [FLOW_POINT, dry])
    created = client.post("/api/workspaces/alpha/maps", json=MAP, headers=bearer(token))
    assert created.status_code == 201, created.json
    anonymous = ws_world.app.test_client()
    features = tile_features(anonymous)  # cached now
    assert [f["properties"] for f in features] == [{"name": "Well at Tøyen",
                                                    "status": "working"}]
    resp = client.delete(f"{PUSH}/{FLOW_POINT['identifier']}", headers=bearer(token))
    assert resp.status_code == 200 and resp.json["deleted"] == 1
    assert tile_features(anonymous) == []


def test_a_moved_point_leaves_the_cached_tile_of_its_old_position(ws_world):
    client = ws_world.app.test_client()
    token = ws_world.tokens["alpha-sync"]
    push(client, token, [FLOW_POINT])
    client.post("/api/workspaces/alpha/maps", json=MAP, headers=bearer(token))
    anonymous = ws_world.app.test_client()
    old, new = (FLOW_POINT["longitude"], FLOW_POINT["latitude"]), (10.80, 59.93)
    assert tile_of(*old, 15) != tile_of(*new, 15)
    assert len(tile_features(anonymous, 15, *old)) == 1  # cached now
    assert tile_features(anonymous, 15, *new) == []  # cached, empty
    moved = dict(FLOW_POINT, longitude=new[0], latitude=new[1],
                 lastUpdateDateTime=FLOW_POINT["lastUpdateDateTime"] + 1000)
    assert push(client, token, [moved]).json["changed"] == 1
    assert tile_features(anonymous, 15, *old) == []
    assert len(tile_features(anonymous, 15, *new)) == 1


def test_a_push_shows_in_the_cached_tile_at_once(ws_world):
    client = ws_world.app.test_client()
    token = ws_world.tokens["alpha-sync"]
    client.post("/api/workspaces/alpha/maps", json=MAP, headers=bearer(token))
    anonymous = ws_world.app.test_client()
    assert tile_features(anonymous) == []
    push(client, token, [FLOW_POINT])
    assert len(tile_features(anonymous)) == 1


def test_a_map_with_client_sql_is_refused_with_422(ws_world):
    windshaft = {"slug": "w", "title": "w", "layers": [
        {"type": "mapnik", "options": {"sql": "SELECT * FROM datapoints", "cartocss": "#s{}"}}]}
    resp = ws_world.app.test_client().post("/api/workspaces/alpha/maps", json=windshaft,
                                           headers=bearer(ws_world.tokens["alpha-sync"]))
    assert resp.status_code == 422
    assert "never runs SQL" in resp.json["error"]["message"]


def test_an_unlisted_map_is_reachable_only_with_its_token(ws_world):
    client = ws_world.app.test_client()
    token = ws_world.tokens["alpha-sync"]
    created = client.post("/api/workspaces/alpha/maps", json=dict(MAP, listed=False),
                          headers=bearer(token))
    map_token = created.json["token"]
    anonymous = ws_world.app.test_client()
    assert anonymous.get("/w/alpha/maps/wells/style.json").status_code == 404
    style = anonymous.get(f"/w/alpha/maps/wells/style.json?token={map_token}")
    assert style.status_code == 200
    assert anonymous.get("/w/alpha/maps/wells/tilejson.json?token=wrong").status_code == 404


def test_metrics_count_accepted_and_rejected_datapoints(ws_world):
    client = ws_world.app.test_client()
    token = ws_world.tokens["alpha-sync"]
    push(client, token, [FLOW_POINT, {"identifier": "bad"}])
    metrics = client.get("/api/workspaces/alpha/metrics", headers=bearer(token)).json
    assert (metrics["accepted"], metrics["rejected"], metrics["batches"]) == (1, 1, 1)
    assert metrics["ingest_lag_seconds"] > 0 and metrics["batch_latency"]["samples"] == 1


def limited_app(settings_env, client_provider, **limits):
    return make_app(settings_env, client_issuer=client_provider.url, **limits)


def test_a_batch_past_the_clients_quota_is_refused_whole(ws_world, settings_env,
                                                         client_provider):
    app = limited_app(settings_env, client_provider, client_quota="3 per hour")
    client = app.test_client()
    token = ws_world.tokens["alpha-sync"]
    two = [dict(FLOW_POINT, identifier=f"q{i}") for i in range(2)]
    assert push(client, token, two).status_code == 200
    refused = push(client, token, [dict(p, identifier=p["identifier"] + "b") for p in two])
    assert refused.status_code == 429 and "quota" in refused.json["error"]["message"]
    assert len(rows(settings_env["PORTAL_DATABASE_URL"])) == 2
    # another client has a quota of its own
    other = push(client, ws_world.tokens["alpha-unnamed"], two)
    assert other.status_code == 200


def test_each_client_has_its_own_request_limit(ws_world, settings_env, client_provider):
    app = limited_app(settings_env, client_provider, ratelimit_client="2 per minute")
    client = app.test_client()
    for _ in range(2):
        assert push(client, ws_world.tokens["alpha-sync"], [FLOW_POINT]).status_code == 200
    limited = push(client, ws_world.tokens["alpha-sync"], [FLOW_POINT])
    assert limited.status_code == 429 and limited.headers["Retry-After"]
    assert push(client, ws_world.tokens["alpha-unnamed"], [FLOW_POINT]).status_code == 200


def test_metrics_count_each_workspaces_datapoints_labelled_by_id_not_name(ws_world,
                                                                        settings_env):
    from prometheus_client.parser import text_string_to_metric_families
    client = ws_world.app.test_client()
    resp = push(client, ws_world.tokens["alpha-sync"], [FLOW_POINT, {"identifier": "nowhere"}])
    assert (resp.json["accepted"], resp.json["rejected"]) == (1, 1)
    text = client.get("/metrics").data.decode()
    samples = {(s.name, tuple(sorted(s.labels.items()))): s.value
               for f in text_string_to_metric_families(text) for s in f.samples}
    conn = psycopg2.connect(settings_env["PORTAL_DATABASE_URL"])
    with conn, conn.cursor() as cur:
        cur.execute("SELECT slug, id::text FROM workspaces")
        ids = dict(cur.fetchall())
    conn.close()
    alpha, beta = ids["alpha"], ids["beta"]

    def datapoints(workspace_id, outcome):
        return samples[("portal_workspace_datapoints_total",
                        (("outcome", outcome), ("workspace_id", workspace_id)))]
    assert (datapoints(alpha, "accepted"), datapoints(alpha, "rejected")) == (1, 1)
    assert (datapoints(beta, "accepted"), datapoints(beta, "rejected")) == (0, 0)
    assert samples[("portal_workspace_batches_total", (("workspace_id", alpha),))] == 1
    assert ("portal_workspace_ingest_lag_seconds", (("workspace_id", alpha),)) in samples
    # /metrics answers everyone: a workspace's name is not in it
    assert "alpha" not in text and "beta" not in text
