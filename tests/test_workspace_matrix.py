"""The workspace access matrix: every workspace route (found by its declaration in the URL
map), every method, requested by an anonymous visitor, alpha's viewer, editor and owner,
beta's member, alpha's machine client and beta's, against a real dataset and map of alpha,
its members and machine clients.

Each answer must be the declared one (app/workspaces/access.py); a refused request changes
nothing (datapoints, maps, members, clients); no answer to anyone outside alpha carries
alpha's unpublished data (its dataset's slug, which only alpha's readers see)."""

from __future__ import annotations

import json

import psycopg2
import pytest

from app.auth.access import LOGIN
from app.workspaces.access import (
    ANONYMOUS,
    CLIENT,
    EDITOR,
    OTHER_CLIENT,
    OTHER_MEMBER,
    OWNER,
    VIEWER,
    VISITORS,
)
from tests.conftest import csrf_token
from tests.osm_helpers import tile_of
from tests.workspace_helpers import bearer

DATASET = "wells-canary-7f3a"  # alpha's unpublished dataset: its slug is the canary
POINT = {"identifier": "p1", "latitude": 59.9149, "longitude": 10.7732,
         "lastUpdateDateTime": 1700000500000, "displayName": "Well", "answers": {"s": "ok"}}
MAP = {"slug": "wells", "title": "Public wells", "layers": [
    {"id": "wells", "dataset": DATASET, "properties": ["name"]}]}
SESSIONS = {VIEWER: "vera", EDITOR: "eddie", OWNER: "olive", OTHER_MEMBER: "bert"}
TOKENS = {CLIENT: "alpha-sync", OTHER_CLIENT: "beta-sync"}
BODIES = {  # endpoint -> JSON body an allowed visitor succeeds with
    "workspaces_api.push": [dict(POINT, identifier="p2")],
    "workspaces_api.delete_many": {"identifiers": ["p1"]},
    "workspaces_api.create_map": dict(MAP, slug="another"),
    "workspaces_api.replace_map": dict(MAP, title="Replaced"),
    "workspace_ogc.create_item": {"type": "Feature", "id": "p3", "properties": {
        "lastUpdateDateTime": "2026-11-30T10:00:00Z"},
        "geometry": {"type": "Point", "coordinates": [10.77, 59.91]}},
    "workspace_ogc.replace_item": {"type": "Feature", "properties": {
        "lastUpdateDateTime": "2026-11-30T10:00:00Z"},
        "geometry": {"type": "Point", "coordinates": [10.77, 59.91]}},
    "workspace_ogc.update_item": {"properties": {"s": "patched"}},
}
FORMS = {  # endpoint -> the browser form an allowed visitor succeeds with
    "workspace_pages.add_member": {"user": "bert", "role": "viewer"},
    "workspace_pages.set_role": {"role": "editor"},
    "workspace_pages.register_client": {"client_id": "alpha-new", "name": "New"},
}
ALPHA_MEMBERS = {"vera": "viewer", "eddie": "editor", "olive": "owner"}
ALPHA_CLIENTS = ("alpha-sync", "alpha-unnamed", "alpha-norole")


def workspace_routes(app):
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        view = app.view_functions[rule.endpoint]
        declared = getattr(view, "workspace_access", None)
        if declared is None:
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield rule, method, declared


class Alpha:
    """alpha's dataset with one point and its public map, re-made after every change."""

    def __init__(self, world, database_url):
        self.world = world
        self.url = database_url

    def _sql(self, statements):
        conn = psycopg2.connect(self.url)
        with conn, conn.cursor() as cur:
            cur.execute("SELECT set_config('portal.workspace_id', id::text, true) "
                        "FROM workspaces WHERE slug = 'alpha'")
            out = [cur.execute(sql, args) or (cur.fetchall() if cur.description else None)
                   for sql, args in statements]
        conn.close()
        return out

    def reset(self):
        alpha = "SELECT id FROM workspaces WHERE slug = 'alpha'"  # a constant, no value
        self._sql([("DELETE FROM workspace_datasets", None),
                   ("DELETE FROM workspace_maps", None),
                   # the owner's changes undone: alpha's members and clients as built
                   ("DELETE FROM workspace_members WHERE workspace_id = (" + alpha + ")", None),
                   ("DELETE FROM workspace_clients WHERE workspace_id = (" + alpha + ")", None),
                   *(("INSERT INTO workspace_members (workspace_id, user_id, role) "
                      "SELECT w.id, u.id, %s FROM workspaces w, users u "
                      "WHERE w.slug = 'alpha' AND u.subject = %s", (role, sub))
                     for sub, role in ALPHA_MEMBERS.items()),
                   *(("INSERT INTO workspace_clients (workspace_id, client_id, name) "
                      "SELECT id, %s, %s FROM workspaces WHERE slug = 'alpha'", (cid, cid))
                     for cid in ALPHA_CLIENTS)])
        client = self.world.app.test_client()
        token = self.world.tokens["alpha-sync"]
        assert client.post(f"/api/workspaces/alpha/datasets/{DATASET}/datapoints",
                           json=[POINT], headers=bearer(token)).status_code == 200
        assert client.post("/api/workspaces/alpha/maps", json=MAP,
                           headers=bearer(token)).status_code == 201

    def fingerprint(self):
        return self._sql([
            ("SELECT identifier, xmin::text FROM workspace_datapoints ORDER BY 1", None),
            ("SELECT slug, version FROM workspace_maps ORDER BY 1", None),
            ("SELECT w.slug, u.subject, m.role FROM workspace_members m JOIN users u "
             "ON u.id = m.user_id JOIN workspaces w ON w.id = m.workspace_id ORDER BY 1, 2", None),
            ("SELECT w.slug, c.client_id FROM workspace_clients c JOIN workspaces w "
             "ON w.id = c.workspace_id ORDER BY 1, 2", None)])


def send(world, visitor, method, path, body, form=None):
    headers = {}
    if visitor in TOKENS:
        client = world.app.test_client()
        headers = bearer(world.tokens[TOKENS[visitor]])
    elif visitor == ANONYMOUS:
        client = world.app.test_client()
    else:
        client = world.users[SESSIONS[visitor]]
        if method != "GET":
            headers["X-CSRFToken"] = csrf_token(client)
    if method != "GET" and path.startswith("/workspaces/"):
        # a browser form: everyone sends the page's CSRF token (its absence is a 400 before
        # anything else), so that the answer is the route's own
        headers["X-CSRFToken"] = csrf_token(client)
        return client.open(path, method=method, data=form or {}, headers=headers)
    data = None if body is None else json.dumps(body)
    return client.open(path, method=method, data=data, headers=headers,
                       content_type="application/json" if data else None)


def path_of(rule, world) -> str:
    _, x, y = tile_of(POINT["longitude"], POINT["latitude"], 15)
    values = {"slug": "alpha", "dataset": DATASET, "map_slug": "wells", "identifier": "p1",
              "z": 15, "x": x, "y": y, "user_id": world.user_ids["vera"],
              "client_id": "alpha-norole"}
    return rule.build({k: values[k] for k in rule.arguments}, append_unknown=False)[1]


@pytest.fixture
def alpha(ws_world, settings_env):
    state = Alpha(ws_world, settings_env["PORTAL_DATABASE_URL"])
    state.reset()
    return state


def test_every_workspace_route_answers_every_visitor_as_declared(ws_world, alpha):
    wrong = []
    seen = 0
    for rule, method, declared in workspace_routes(ws_world.app):
        seen += 1
        path = path_of(rule, ws_world)
        body, form = BODIES.get(rule.endpoint), FORMS.get(rule.endpoint)
        # the refused first: they must change nothing the allowed ones then change
        for visitor in sorted(VISITORS, key=lambda v: declared[v] is None):
            expected = declared[visitor]
            before = alpha.fingerprint()
            resp = send(ws_world, visitor, method, path, body, form)
            got = resp.status_code
            location = resp.headers.get("Location", "")
            # a browser form that passes redirects back to its page (303)
            done = 200 <= got < 300 or (got == 303 and "/login" not in location)
            if expected is None and not done:
                wrong.append(f"{method} {path} as {visitor}: allowed, got {got} {resp.data[:200]}")
            if expected == LOGIN and not (got == 302 and location.startswith("/login")):
                wrong.append(f"{method} {path} as {visitor}: expected to log in, got {got}")
            if expected not in (None, LOGIN) and got != expected:
                wrong.append(f"{method} {path} as {visitor}: expected {expected}, got {got}")
            if expected == 401 and "WWW-Authenticate" not in resp.headers:
                wrong.append(f"{method} {path} as {visitor}: 401 without WWW-Authenticate")
            outsider = visitor in (ANONYMOUS, OTHER_MEMBER, OTHER_CLIENT)
            if outsider and DATASET.encode() in resp.data:
                wrong.append(f"{method} {path} as {visitor}: shows alpha's dataset")
            if expected is not None and alpha.fingerprint() != before:
                wrong.append(f"{method} {path} as {visitor}: refused, but changed data")
            if method != "GET":
                alpha.reset()
    assert seen >= 26, "the workspace routes were not found in the URL map"
    assert not wrong, "\n".join(wrong)


def test_a_browser_session_needs_its_csrf_token_to_push(ws_world, alpha):
    before = alpha.fingerprint()
    resp = ws_world.users["eddie"].post(f"/api/workspaces/alpha/datasets/{DATASET}/datapoints",
                                        json=[dict(POINT, identifier="p9")])
    assert resp.status_code == 400 and b"security token" in resp.data
    assert alpha.fingerprint() == before
