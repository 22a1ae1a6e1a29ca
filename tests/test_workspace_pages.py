"""A workspace's page in the browser (/workspaces/<slug>): its members see its members,
machine clients, datasets and maps; its owners, and portal admins, add members by login
name, change roles, remove members, register and remove machine clients; the last owner
stays; bad input is refused naming the problem and changes nothing."""

from __future__ import annotations

import html
import re

import psycopg2
import pytest

from tests.conftest import csrf_token, login
from tests.workspace_helpers import bearer

POINT = {"identifier": "p1", "latitude": 59.9149, "longitude": 10.7732,
         "lastUpdateDateTime": 1700000500000, "displayName": "Well"}
MAP = {"slug": "wells", "title": "Public wells", "layers": [
    {"id": "wells", "dataset": "wells", "properties": ["name"]}]}


@pytest.fixture
def db_url(settings_env):
    return settings_env["PORTAL_DATABASE_URL"]


def members_of(db_url: str, slug: str) -> dict[str, str]:
    conn = psycopg2.connect(db_url)
    with conn, conn.cursor() as cur:
        cur.execute("SELECT u.subject, m.role FROM workspace_members m "
                    "JOIN users u ON u.id = m.user_id JOIN workspaces w ON w.id = m.workspace_id "
                    "WHERE w.slug = %s", (slug,))
        rows = dict(cur.fetchall())
    conn.close()
    return rows


def clients_of(db_url: str, slug: str) -> set[str]:
    conn = psycopg2.connect(db_url)
    with conn, conn.cursor() as cur:
        cur.execute("SELECT c.client_id FROM workspace_clients c "
                    "JOIN workspaces w ON w.id = c.workspace_id WHERE w.slug = %s", (slug,))
        rows = {r[0] for r in cur.fetchall()}
    conn.close()
    return rows


def form(client, path: str, data: dict, page: str = "/workspaces"):
    return client.post(path, data={**data, "csrf_token": csrf_token(client, page)})


def a_user(app, oidc_provider, sub: str, roles=("user",)):
    client = app.test_client()
    login(client, oidc_provider, sub, roles=list(roles))
    return client, client.get("/api/me").json["id"]


def test_an_owner_adds_a_member_who_then_sees_the_workspace_changes_and_removes_them(
        ws_world, oidc_provider, db_url):
    olive = ws_world.users["olive"]
    rita, rita_id = a_user(ws_world.app, oidc_provider, "rita")
    assert rita.get("/workspaces/alpha").status_code == 404
    assert 'id="workspace-alpha"' not in rita.get("/workspaces").data.decode()

    added = form(olive, "/workspaces/alpha/members", {"user": "rita", "role": "viewer"})
    assert added.status_code == 303
    notice = olive.get(added.headers["Location"]).data.decode()
    assert "Rita added" in notice and 'id="member-rita"' in notice
    assert members_of(db_url, "alpha")["rita"] == "viewer"
    assert 'id="workspace-alpha"' in rita.get("/workspaces").data.decode()
    page = rita.get("/workspaces/alpha").data.decode()
    assert 'id="your-role">viewer' in page and 'id="add-member"' not in page

    changed = form(olive, f"/workspaces/alpha/members/{rita_id}", {"role": "editor"})
    assert changed.status_code == 303
    assert rita.get("/api/workspaces/alpha").json["role"] == "editor"

    removed = form(olive, f"/workspaces/alpha/members/{rita_id}/remove", {})
    assert removed.status_code == 303
    assert "rita" not in members_of(db_url, "alpha")
    assert rita.get("/workspaces/alpha").status_code == 404


def test_a_member_is_added_by_e_mail_too_and_not_twice(ws_world, oidc_provider, db_url):
    olive = ws_world.users["olive"]
    a_user(ws_world.app, oidc_provider, "sam")
    assert form(olive, "/workspaces/alpha/members",
                {"user": "SAM@example.org", "role": "editor"}).status_code == 303
    again = form(olive, "/workspaces/alpha/members", {"user": "sam", "role": "owner"})
    assert again.status_code == 409 and "member already" in again.data.decode()
    assert members_of(db_url, "alpha")["sam"] == "editor"


def test_the_last_owner_is_neither_removed_nor_demoted(ws_world, db_url):
    olive, olive_id = ws_world.users["olive"], ws_world.user_ids["olive"]
    before = members_of(db_url, "alpha")
    demoted = form(olive, f"/workspaces/alpha/members/{olive_id}", {"role": "editor"})
    assert demoted.status_code == 409
    assert "last owner of alpha cannot be demoted" in demoted.data.decode()
    removed = form(olive, f"/workspaces/alpha/members/{olive_id}/remove", {})
    assert removed.status_code == 409
    assert "last owner of alpha cannot be removed" in removed.data.decode()
    assert members_of(db_url, "alpha") == before
    # with a second owner, the first may step down
    eddie_id = ws_world.user_ids["eddie"]
    assert form(olive, f"/workspaces/alpha/members/{eddie_id}",
                {"role": "owner"}).status_code == 303
    assert form(olive, f"/workspaces/alpha/members/{olive_id}",
                {"role": "viewer"}).status_code == 303
    assert members_of(db_url, "alpha") == {**before, "eddie": "owner", "olive": "viewer"}


def test_bad_input_is_refused_naming_the_problem_and_changes_nothing(ws_world, db_url):
    olive = ws_world.users["olive"]
    vera_id = ws_world.user_ids["vera"]
    before, clients = members_of(db_url, "alpha"), clients_of(db_url, "alpha")
    cases = [
        ("/workspaces/alpha/members", {"user": "nobody-here", "role": "viewer"}, 400,
         "no portal user &#39;nobody-here&#39;"),
        ("/workspaces/alpha/members", {"user": "", "role": "viewer"}, 400, "login name"),
        ("/workspaces/alpha/members", {"user": "bert", "role": "king"}, 400,
         "role: one of viewer, editor, owner"),
        (f"/workspaces/alpha/members/{vera_id}", {"role": "admin"}, 400, "role: one of"),
        ("/workspaces/alpha/members/999999", {"role": "editor"}, 404, "not a member"),
        ("/workspaces/alpha/members/999999/remove", {}, 404, "not a member"),
        # registered here, and registered to another workspace: a client acts for one only
        ("/workspaces/alpha/clients", {"client_id": "alpha-sync"}, 409,
         "registered already"),
        ("/workspaces/alpha/clients", {"client_id": "beta-sync"}, 409, "registered already"),
        ("/workspaces/alpha/clients", {"client_id": "  "}, 400, "client_id"),
        ("/workspaces/alpha/clients/beta-sync/remove", {}, 404, "no client"),
    ]
    for path, data, status, message in cases:
        resp = form(olive, path, data)
        assert resp.status_code == status, (path, data, resp.status_code)
        body = resp.data.decode()
        assert message in body, (path, data, body[:500])
        assert 'role="alert"' in body and 'id="add-member"' in body  # the page, again
    assert members_of(db_url, "alpha") == before
    assert clients_of(db_url, "alpha") == clients
    assert "beta-sync" in clients_of(db_url, "beta")


def test_an_owner_registers_a_client_and_a_removed_clients_token_is_refused(ws_world, db_url):
    olive = ws_world.users["olive"]
    made = form(olive, "/workspaces/alpha/clients", {"client_id": " flow-prod ",
                                                     "name": "Akvo Flow"})
    assert made.status_code == 303
    page = olive.get(made.headers["Location"]).data.decode()
    assert 'id="client-flow-prod"' in page and "Akvo Flow" in page
    assert "flow-prod" in clients_of(db_url, "alpha")

    # a client id may be a URL (Keycloak allows it): the page's own remove form takes it
    url_id = "https://flow.example.org/clients/sync 2"
    assert form(olive, "/workspaces/alpha/clients", {"client_id": url_id}).status_code == 303
    page = olive.get("/workspaces/alpha").data.decode()
    action = next(a for a in re.findall(r'action="([^"]+/remove)"', page) if "flow.example" in a)
    assert form(olive, html.unescape(action), {}).status_code == 303
    assert url_id not in clients_of(db_url, "alpha")

    token = ws_world.tokens["alpha-unnamed"]
    anonymous = ws_world.app.test_client()
    assert anonymous.get("/api/workspaces/alpha", headers=bearer(token)).status_code == 200
    assert form(olive, "/workspaces/alpha/clients/alpha-unnamed/remove", {}).status_code == 303
    refused = anonymous.get("/api/workspaces/alpha", headers=bearer(token))
    assert refused.status_code == 401 and "not registered" in refused.json["error"]["message"]


def test_every_member_sees_members_clients_datasets_and_maps_only_owners_get_forms(
        ws_world, db_url):
    token = ws_world.tokens["alpha-sync"]
    api = ws_world.app.test_client()
    assert api.post("/api/workspaces/alpha/datasets/wells/datapoints", json=[POINT],
                    headers=bearer(token)).status_code == 200
    assert api.post("/api/workspaces/alpha/maps", json=MAP,
                    headers=bearer(token)).status_code == 201
    for who in ("vera", "eddie", "olive"):
        page = ws_world.users[who].get("/workspaces/alpha").data.decode()
        for shown in ('id="member-vera"', 'id="member-olive"', 'id="client-alpha-sync"',
                      "<code>wells</code>", "Public wells", "/w/alpha/maps/wells/"):
            assert shown in page, (who, shown)
        forms = ('id="add-member"', 'id="add-client"', "/members/", "/remove")
        assert all((f in page) == (who == "olive") for f in forms), who
    # beta's member sees nothing of alpha, not even that it exists
    assert ws_world.users["bert"].get("/workspaces/alpha").status_code == 404
    assert 'id="workspace-alpha"' not in ws_world.users["bert"].get("/workspaces").data.decode()


def test_viewers_and_editors_may_not_change_members_or_clients(ws_world, db_url):
    before, clients = members_of(db_url, "alpha"), clients_of(db_url, "alpha")
    olive_id = ws_world.user_ids["olive"]
    for who in ("vera", "eddie"):
        client = ws_world.users[who]
        for path, data in (("/workspaces/alpha/members", {"user": "bert", "role": "owner"}),
                           (f"/workspaces/alpha/members/{olive_id}/remove", {}),
                           ("/workspaces/alpha/clients", {"client_id": "mine"})):
            resp = form(client, path, data)
            assert resp.status_code == 403 and "owner role" in resp.data.decode(), (who, path)
    assert members_of(db_url, "alpha") == before and clients_of(db_url, "alpha") == clients


def test_a_form_without_its_csrf_token_changes_nothing(ws_world, db_url):
    before = members_of(db_url, "alpha")
    resp = ws_world.users["olive"].post("/workspaces/alpha/members",
                                        data={"user": "bert", "role": "viewer"})
    assert resp.status_code == 400 and "security token" in resp.data.decode()
    assert members_of(db_url, "alpha") == before


def test_an_admin_manages_any_workspace(ws_world, oidc_provider, db_url):
    ada, _ = a_user(ws_world.app, oidc_provider, "ada", roles=("admin",))
    listed = ada.get("/workspaces").data.decode()
    assert 'id="workspace-alpha"' in listed and 'id="workspace-beta"' in listed
    page = ada.get("/workspaces/beta").data.decode()
    assert 'id="your-role">admin' in page and 'id="add-member"' in page
    assert form(ada, "/workspaces/beta/members", {"user": "vera", "role": "editor"}
                ).status_code == 303
    assert members_of(db_url, "beta") == {"bert": "owner", "vera": "editor"}
    assert form(ada, "/workspaces/beta/clients", {"client_id": "beta-two"}).status_code == 303
    assert "beta-two" in clients_of(db_url, "beta")
    # the admin API removes through the same service, the last owner kept there too
    headers = {"X-CSRFToken": csrf_token(ada)}
    bert_id = ws_world.user_ids["bert"]
    last = ada.delete(f"/api/admin/workspaces/beta/members/{bert_id}", headers=headers)
    assert last.status_code == 409 and "last owner" in last.json["error"]["message"]
    demote = ada.post("/api/admin/workspaces/beta/members", headers=headers,
                      json={"user_id": bert_id, "role": "viewer"})
    assert demote.status_code == 409
    vera_id = ws_world.user_ids["vera"]
    assert ada.delete(f"/api/admin/workspaces/beta/members/{vera_id}",
                      headers=headers).status_code == 204
    assert ada.delete("/api/admin/workspaces/beta/clients/beta-two",
                      headers=headers).status_code == 204
    assert members_of(db_url, "beta") == {"bert": "owner"}
    assert "beta-two" not in clients_of(db_url, "beta")
    gone = ada.delete("/api/admin/workspaces/beta/clients/beta-two", headers=headers)
    assert gone.status_code == 404
