"""Sessions can be ended: logout ends every copy of the cookie, roles follow the provider
within PORTAL_SESSION_ROLE_TTL_SECONDS, and an admin can end a user's sessions."""

import psycopg2
import requests

from tests.conftest import csrf_token, login, make_app, wait_until


def logout(client):
    return client.post("/logout", data={"csrf_token": csrf_token(client)})


def test_after_logout_the_old_cookie_gets_401_in_every_app_process(settings_env,
                                                                    oidc_provider):
    client = make_app(settings_env).test_client()
    login(client, oidc_provider, "hana", ["user"])
    saved = client.get_cookie("session").value
    assert logout(client).status_code == 302

    for process in (make_app(settings_env), make_app(settings_env)):  # the copy, anywhere
        copy = process.test_client()
        copy.set_cookie("session", saved)
        assert copy.get("/api/me").status_code == 401
        page = copy.get("/rides/mine")
        assert page.status_code == 302 and page.headers["Location"].startswith("/login")


def test_logging_in_again_after_logout_gives_a_working_session(client, oidc_provider):
    login(client, oidc_provider, "ivan", ["user"])
    logout(client)
    login(client, oidc_provider, "ivan", ["user"])
    assert client.get("/api/me").json["subject"] == "ivan"


def test_a_demoted_admin_loses_admin_within_the_role_ttl(settings_env, oidc_provider):
    app = make_app(settings_env, session_role_ttl_seconds=1)
    client = app.test_client()
    login(client, oidc_provider, "judy", ["admin"])
    assert client.get("/api/me").json["role"] == "admin"
    assert client.get("/admin/users").status_code == 200

    requests.put(f"{oidc_provider}/users/judy", json={
        "email": "judy@example.org", "realm_access": {"roles": ["operator"]}},
        timeout=5).raise_for_status()

    wait_until(lambda: client.get("/api/me").json["role"] == "operator", 30,
               interval=0.5, message="the provider's demotion to reach the session")
    assert client.get("/admin/users").status_code == 404
    assert client.get("/pipelines").status_code == 200  # still an operator


def test_a_refresh_token_the_provider_refuses_ends_the_session(settings_env, oidc_provider):
    app = make_app(settings_env, session_role_ttl_seconds=1)
    client = app.test_client()
    login(client, oidc_provider, "kyle", ["user"])
    conn = psycopg2.connect(settings_env["PORTAL_DATABASE_URL"])
    with conn, conn.cursor() as cur:  # as if the provider ended or forgot kyle's session
        cur.execute("UPDATE users SET oidc_refresh_token = 'revoked-at-the-provider' "
                    "WHERE subject = 'kyle'")
    conn.close()
    wait_until(lambda: client.get("/api/me").status_code == 401, 30, interval=0.5,
               message="the refused refresh to end the session")


def test_admin_ends_another_users_sessions(settings_env, oidc_provider):
    app = make_app(settings_env)
    admin, rider, rider_phone = (app.test_client() for _ in range(3))
    login(admin, oidc_provider, "lena", ["admin"])
    login(rider, oidc_provider, "mark", ["user"])
    login(rider_phone, oidc_provider, "mark", ["user"])
    rider_id = rider.get("/api/me").json["id"]

    page = admin.get("/admin/users")
    assert page.status_code == 200 and b"Mark" in page.data
    ended = admin.post(f"/api/admin/users/{rider_id}/end-sessions",
                       headers={"X-CSRFToken": csrf_token(admin)})
    assert ended.status_code == 200, ended.data
    assert rider.get("/api/me").status_code == 401
    assert rider_phone.get("/api/me").status_code == 401
    assert admin.get("/api/me").status_code == 200  # only the chosen user is logged out


def test_the_users_page_button_ends_the_sessions(settings_env, oidc_provider):
    app = make_app(settings_env)
    admin, rider = app.test_client(), app.test_client()
    login(admin, oidc_provider, "nora", ["admin"])
    login(rider, oidc_provider, "olaf", ["user"])
    rider_id = rider.get("/api/me").json["id"]
    done = admin.post(f"/admin/users/{rider_id}/end-sessions",
                      data={"csrf_token": csrf_token(admin, "/admin/users")})
    assert done.status_code == 302
    assert b"Ended every session of Olaf" in admin.get(done.headers["Location"]).data
    assert rider.get("/api/me").status_code == 401


def test_only_admins_may_end_sessions_and_others_see_404(settings_env, oidc_provider):
    app = make_app(settings_env)
    operator, victim = app.test_client(), app.test_client()
    login(operator, oidc_provider, "pete", ["operator"])
    login(victim, oidc_provider, "quin", ["user"])
    victim_id = victim.get("/api/me").json["id"]
    assert operator.get("/admin/users").status_code == 404
    refused = operator.post(f"/api/admin/users/{victim_id}/end-sessions",
                            headers={"X-CSRFToken": csrf_token(operator)})
    assert refused.status_code == 404
    assert victim.get("/api/me").status_code == 200
    assert app.test_client().post(f"/api/admin/users/{victim_id}/end-sessions").status_code \
        in (400, 401)  # anonymous: no CSRF token, no session
