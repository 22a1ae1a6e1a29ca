"""Admins make workspaces (page and API), give users a role in them and register machine
clients; nobody else may, and bad input is refused naming the problem."""

from __future__ import annotations

from tests.conftest import csrf_token, login


def test_an_admin_makes_a_workspace_gives_a_role_and_registers_a_client(ws_app,
                                                                        oidc_provider):
    admin = ws_app.test_client()
    login(admin, oidc_provider, "ada", roles=["admin"])
    rider = ws_app.test_client()
    login(rider, oidc_provider, "rita", roles=["user"])
    rider_id = rider.get("/api/me").json["id"]

    made = admin.post("/admin/workspaces", data={"slug": "acme", "name": "Acme water",
                                                  "csrf_token": csrf_token(admin)})
    assert made.status_code == 302
    page = admin.get("/admin/workspaces").data.decode()
    assert 'id="workspace-acme"' in page and "Acme water" in page

    headers = {"X-CSRFToken": csrf_token(admin)}
    role = admin.post("/api/admin/workspaces/acme/members",
                      json={"user_id": rider_id, "role": "editor"}, headers=headers)
    assert role.status_code == 200
    client = admin.post("/api/admin/workspaces/acme/clients",
                        json={"client_id": "acme-sync"}, headers=headers)
    assert client.status_code == 201
    again = admin.post("/api/admin/workspaces/acme/clients", json={"client_id": "acme-sync"},
                       headers=headers)
    assert again.status_code == 409 and "registered already" in again.json["error"]["message"]
    assert rider.get("/api/workspaces/acme").json["role"] == "editor"


def test_bad_workspace_input_is_refused_naming_the_field(ws_app, oidc_provider):
    admin = ws_app.test_client()
    login(admin, oidc_provider, "ada", roles=["admin"])
    headers = {"X-CSRFToken": csrf_token(admin)}
    bad = admin.post("/api/admin/workspaces", json={"slug": "Not A Slug", "name": "x"},
                     headers=headers)
    assert bad.status_code == 400 and "slug" in bad.json["error"]["message"]
    admin.post("/api/admin/workspaces", json={"slug": "acme", "name": "Acme"}, headers=headers)
    role = admin.post("/api/admin/workspaces/acme/members", json={"user_id": 1,
                                                                   "role": "king"},
                      headers=headers)
    assert role.status_code == 400 and "role" in role.json["error"]["message"]


def test_others_may_not_make_workspaces(ws_app, oidc_provider):
    rider = ws_app.test_client()
    login(rider, oidc_provider, "rita", roles=["operator"])
    resp = rider.post("/api/admin/workspaces", json={"slug": "x", "name": "x"},
                      headers={"X-CSRFToken": csrf_token(rider)})
    assert resp.status_code == 404
    assert rider.get("/admin/workspaces").status_code == 404
    anonymous = ws_app.test_client()
    assert anonymous.get("/admin/workspaces").status_code == 302
