"""Security headers on every response (CSP for our own assets, nosniff, referrer policy,
no framing, HSTS behind https), downloads named safely whatever the uploaded file was
called, and CSV exports whose cells a spreadsheet will not run as formulas (issue 10,
finding 10)."""

from __future__ import annotations

import csv
import io
from urllib.parse import quote

import pytest

from app.downloads import attachment, csv_text, safe_cell
from tests.conftest import ROOT, make_app
from tests.ride_helpers import BERLIN_RIDE

PAGES = ["/", "/rides", "/statistics", "/ogc/", "/ogc/collections?f=html", "/livez",
         "/api/layers", "/static/js/map.js", "/no-such-page"]


def _csp(resp) -> dict[str, str]:
    policy = resp.headers["Content-Security-Policy"]
    return {d.split(" ", 1)[0]: d.split(" ", 1)[1] for d in policy.split("; ")}


@pytest.mark.parametrize("path", PAGES)
def test_every_response_has_the_security_headers(client, path):
    resp = client.get(path)
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert resp.headers["Referrer-Policy"] == "same-origin"
    assert resp.headers["X-Frame-Options"] == "DENY"
    csp = _csp(resp)
    assert csp["frame-ancestors"] == "'none'"
    assert csp["default-src"] == csp["script-src"] == csp["style-src"] == "'self'"
    assert csp["worker-src"] == "'self' blob:"  # MapLibre's tile worker
    assert csp["img-src"] == "'self' data: blob:"
    assert csp["connect-src"] == "'self'" and csp["object-src"] == "'none'"
    assert "Strict-Transport-Security" not in resp.headers  # the tests' public URL is http


def test_hsts_and_an_external_basemap_when_configured(settings_env):
    app = make_app(settings_env, public_url="https://portal.example.org",
                   basemap_style_url="https://tiles.example.com/styles/basic.json")
    resp = app.test_client().get("/", base_url="https://portal.example.org")
    assert resp.headers["Strict-Transport-Security"] == "max-age=31536000"
    csp = _csp(resp)
    assert csp["connect-src"] == "'self' https://tiles.example.com"
    assert csp["img-src"] == "'self' data: blob: https://tiles.example.com"
    assert csp["script-src"] == "'self'"


def test_pages_need_no_inline_script_or_style():
    """The CSP allows no inline code, so no template may rely on it."""
    for template in (ROOT / "app" / "templates").rglob("*.html"):
        text = template.read_text()
        assert "<style" not in text and " style=" not in text, template
        assert " onsubmit=" not in text and " onclick=" not in text, template
        scripts = text.split("<script")[1:]
        assert all(" src=" in s.split(">")[0] or 'type="application/json"' in s.split(">")[0]
                   for s in scripts), template


@pytest.mark.parametrize("name, plain, exact", [
    ("ride.csv", "ride.csv", None),
    ('evil"\r\nSet-Cookie: a=b.csv', "evil_Set-Cookie: a=b.csv",
     "evil%22Set-Cookie%3A%20a%3Db.csv"),
    ("Øvre Slottsgate.csv", "_vre Slottsgate.csv", "%C3%98vre%20Slottsgate.csv"),
    ("\x00\r\n", "download", None),
    ("a\\b.gpx", "a_b.gpx", "a%5Cb.gpx"),
    ("Café.gpx", "Cafe.gpx", "Caf%C3%A9.gpx"),
])
def test_a_download_name_can_neither_break_nor_add_a_header(name, plain, exact):
    value = attachment(name)
    assert "\r" not in value and "\n" not in value and "\x00" not in value
    assert value.startswith(f'attachment; filename="{plain}"')
    if exact:
        assert value.endswith(f"; filename*=UTF-8''{exact}")
    else:
        assert "filename*" not in value


def test_a_ride_uploaded_with_crlf_and_quotes_in_its_name_downloads(rider):
    name = 'my "ride"\r\nX-Evil: 1.csv'
    resp = rider.client.post(f"/api/rides?filename={quote(name)}",
                             headers={"Authorization": f"OBSUserId {rider.key}"},
                             data=BERLIN_RIDE.read_bytes(), content_type="text/csv")
    assert resp.status_code == 201, resp.get_json()
    ride_id = resp.get_json()["ride"]["id"]
    raw = rider.client.get(f"/rides/{ride_id}/raw")
    assert raw.status_code == 200
    assert raw.data == BERLIN_RIDE.read_bytes()
    assert "X-Evil" not in raw.headers
    disposition = raw.headers["Content-Disposition"]
    assert disposition.startswith('attachment; filename="my _ride_X-Evil: 1.csv"')
    assert "filename*=UTF-8''my%20%22ride%22" in disposition


@pytest.mark.parametrize("value, written", [
    ("=HYPERLINK(\"http://evil.example\",\"x\")", "'=HYPERLINK(\"http://evil.example\",\"x\")"),
    ("+41 79", "'+41 79"), ("-1+2", "'-1+2"), ("@SUM(A1)", "'@SUM(A1)"),
    ("\tcmd", "'\tcmd"), ("\r=1", "'\r=1"),
    ("Bahnhof", "Bahnhof"), (-3.5, -3.5), (None, None), ("a=b", "a=b"),
])
def test_a_csv_cell_that_looks_like_a_formula_is_neutralised(value, written):
    assert safe_cell(value) == written


def test_csv_text_writes_the_header_even_without_rows():
    assert csv_text([], ("a", "b")) == "a,b\n"
    assert csv_text([{"a": "=1", "b": 2}]) == "a,b\n'=1,2\n"


def test_registry_names_export_as_text_not_formulas(client, golden, db_conn):
    evil = '=HYPERLINK("http://evil.example","click")'
    with db_conn.cursor() as cur:
        cur.execute("UPDATE stop_matches SET official_name = %s", (evil,))
        cur.execute("UPDATE official_stops SET name = %s", ("@" + evil,))
    db_conn.commit()
    matches = list(csv.DictReader(io.StringIO(client.get("/api/stops/matches.csv").text)))
    assert matches and {m["official_name"] for m in matches} == {"'" + evil}
    problems = list(csv.DictReader(io.StringIO(client.get("/api/stops/problems.csv").text)))
    names = {p["official_name"] for p in problems if p["official_name"]}
    assert names == {"'@" + evil}
