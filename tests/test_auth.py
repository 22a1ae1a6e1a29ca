"""Login through a real OIDC provider process: roles from claims, users from claims, logout."""

import pytest
import requests

from app.extensions import db
from app.models import User
from tests.conftest import login, make_app


@pytest.mark.parametrize(
    ("roles", "expected"),
    [
        (["admin"], "admin"),
        (["operator", "offline_access"], "operator"),
        (["offline_access", "uma_authorization"], "user"),
        (["user", "admin", "operator"], "admin"),
        ([], "user"),
    ],
)
def test_login_gives_the_role_named_in_the_realm_roles_claim(client, oidc_provider, roles,
                                                               expected):
    login(client, oidc_provider, "alice", roles)
    me = client.get("/api/me")
    assert me.status_code == 200
    assert me.json["role"] == expected
    assert me.json["subject"] == "alice"
    assert me.json["email"] == "alice@example.org"


def test_first_login_creates_the_user_and_later_logins_update_the_role(app, oidc_provider):
    client = app.test_client()
    login(client, oidc_provider, "bob", ["operator"])
    login(app.test_client(), oidc_provider, "bob", ["user"], claims={"name": "Bob Builder"})
    with app.app_context():
        users = db.session.scalars(db.select(User)).all()
        assert [(u.subject, u.role, u.display_name) for u in users] == [
            ("bob", "user", "Bob Builder")]
        assert users[0].issuer == oidc_provider


def test_role_claim_path_is_configurable(settings_env, oidc_provider):
    app = make_app(settings_env, oidc_roles_claim="portal.groups")
    client = app.test_client()
    login(client, oidc_provider, "carol", claims={"portal": {"groups": ["operator"]}})
    assert client.get("/api/me").json["role"] == "operator"


def test_the_session_is_a_signed_cookie_and_survives_another_app_process(settings_env,
                                                                          oidc_provider):
    first = make_app(settings_env)
    client = first.test_client()
    login(client, oidc_provider, "dave", ["admin"])
    cookie = client.get_cookie("session")
    second = make_app(settings_env).test_client()  # another process, nothing shared but Redis/DB
    second.set_cookie("session", cookie.value)
    assert second.get("/api/me").json["role"] == "admin"


def test_a_tampered_session_cookie_is_ignored(settings_env, client):
    client.set_cookie("session", "eyJ1aWQiOjF9.forged.signature")
    assert client.get("/api/me").status_code == 401


def test_anonymous_api_call_is_401_and_page_redirects_to_login(client):
    assert client.get("/api/me").status_code == 401
    page = client.get("/pipelines")
    assert page.status_code == 302
    assert page.headers["Location"].startswith("/login")


def test_logout_clears_the_session_and_ends_the_provider_session(client, oidc_provider):
    login(client, oidc_provider, "erin", ["user"])
    page = client.get("/")
    token = page.data.decode().split('name="csrf-token" content="')[1].split('"')[0]
    out = client.post("/logout", data={"csrf_token": token})
    assert out.status_code == 302
    assert out.headers["Location"].startswith(f"{oidc_provider}/oauth2/end_session?")
    assert "id_token_hint=" in out.headers["Location"]
    assert client.get("/api/me").status_code == 401


def test_logout_without_csrf_token_is_refused(client, oidc_provider):
    login(client, oidc_provider, "frank", ["user"])
    assert client.post("/logout").status_code == 400
    assert client.get("/api/me").status_code == 200


def test_login_callback_with_a_forged_state_is_refused(client, oidc_provider):
    client.get("/login")
    resp = client.get("/auth/callback?code=abc&state=forged")
    assert resp.status_code == 400
    assert b"login failed" in resp.data
    assert client.get("/api/me").status_code == 401


def test_next_parameter_cannot_redirect_off_site(client, oidc_provider):
    requests.put(f"{oidc_provider}/users/gina", json={"realm_access": {"roles": []}}, timeout=5)
    start = client.get("/login?next=https://evil.example/steal")
    consent = requests.post(start.headers["Location"], data={"sub": "gina"},
                            allow_redirects=False, timeout=5)
    done = client.get(consent.headers["Location"].removeprefix("http://localhost"))
    assert done.headers["Location"] == "/"
