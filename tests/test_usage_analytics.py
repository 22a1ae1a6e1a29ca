"""Analytics without personal data: our daily counts of pages, tiles and API calls, and
Plausible's script only when it is configured."""

import psycopg2
import pytest

from tests.conftest import login, make_app


@pytest.fixture
def counting(settings_env):
    """An app that adds its counts to PostgreSQL after every request."""
    app = make_app(settings_env, analytics_flush_seconds=0)
    yield app.test_client()
    from app.extensions import db
    with app.app_context():
        db.engine.dispose()


def usage_rows(database_url: str) -> list[tuple]:
    conn = psycopg2.connect(database_url)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT * FROM usage_daily ORDER BY kind, route")
            columns = [c.name for c in cur.description]
            return columns, cur.fetchall()
    finally:
        conn.close()


def test_requests_are_counted_per_day_and_route_kind_with_nothing_about_the_visitor(
        counting, settings_env, oidc_provider):
    for _ in range(3):
        assert counting.get("/", environ_base={"REMOTE_ADDR": "203.0.113.7"}).status_code == 200
    assert counting.get("/tiles/roads/14/8691/4763.mvt").status_code == 200
    assert counting.get("/tiles/roads/14/8691/4764.mvt").status_code == 200
    assert counting.get("/api/layers").status_code == 200
    # not counted: static files, probes, errors
    assert counting.get("/static/css/portal.css").status_code == 200
    assert counting.get("/livez").status_code == 200
    assert counting.get("/rides/999999").status_code in (302, 404)
    assert counting.get("/no-such-page").status_code == 404

    columns, rows = usage_rows(settings_env["PORTAL_DATABASE_URL"])
    assert columns == ["day", "kind", "route", "count"]  # no address, cookie or user column
    counted = {(kind, route): count for _day, kind, route, count in rows}
    assert counted == {("api", "/api/layers"): 1, ("page", "/"): 3,
                       ("tile", "/tiles/<spec>/<int:z>/<int:x>/<int:y>.mvt"): 2}
    assert "203.0.113.7" not in repr(rows)

    login(counting, oidc_provider, "root", roles=["admin"])
    usage = counting.get("/api/admin/health").json["usage"]["detail"]
    by_kind = {d["kind"]: d["count"] for d in usage["days"]}
    assert by_kind["page"] >= 3 and by_kind["tile"] == 2
    page = counting.get("/admin/health").data.decode()
    assert "<td>tile</td><td>2</td>" in page


def test_counts_wait_in_the_process_until_their_flush_is_due(client, settings_env):
    # the default flushes every 10 s: one request costs a dict increment, no statement
    assert client.get("/api/layers").status_code == 200
    assert usage_rows(settings_env["PORTAL_DATABASE_URL"])[1] == []
    counter = client.application.extensions["usage_counter"]
    conn = psycopg2.connect(settings_env["PORTAL_DATABASE_URL"])
    try:
        assert counter.flush(conn) == 1
    finally:
        conn.close()
    assert usage_rows(settings_env["PORTAL_DATABASE_URL"])[1][0][1:] == (
        "api", "/api/layers", 1)


def test_plausible_is_on_pages_and_allowed_by_the_csp_only_when_configured(client,
                                                                           settings_env):
    plain = client.get("/")
    assert b"data-domain" not in plain.data
    assert "script-src 'self';" in plain.headers["Content-Security-Policy"]

    with_plausible = make_app(settings_env,
                              plausible_script_url="https://plausible.example.org/js/script.js",
                              plausible_domain="portal.example.org").test_client()
    page = with_plausible.get("/")
    assert (b'<script defer data-domain="portal.example.org" '
            b'src="https://plausible.example.org/js/script.js"></script>') in page.data
    csp = page.headers["Content-Security-Policy"]
    assert "script-src 'self' https://plausible.example.org;" in csp
    assert "connect-src 'self' https://plausible.example.org;" in csp
