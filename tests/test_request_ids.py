"""Every request has an id: the proxy's X-Request-ID when it looks like one, else a new
one; it is in the answer's X-Request-ID and in every JSON log line of the request."""

from __future__ import annotations

import json
import logging

import requests

from matching_and_import_db.settings.logging_setup import JsonFormatter, RequestIdFilter
from tests.conftest import wait_until


def test_the_answer_carries_the_request_id(client):
    given = client.get("/livez", headers={"X-Request-ID": "0123456789abcdef"})
    assert given.headers["X-Request-ID"] == "0123456789abcdef"
    made = client.get("/livez", headers={"X-Request-ID": "bad id; <script>"})
    assert made.headers["X-Request-ID"] != "bad id; <script>"
    assert len(made.headers["X-Request-ID"]) == 32
    other = client.get("/livez")
    assert other.headers["X-Request-ID"] != made.headers["X-Request-ID"]


def test_json_log_lines_of_a_request_name_its_id(app):
    lines = []

    class Collect(logging.Handler):
        def emit(self, record):
            lines.append(self.format(record))

    handler = Collect()
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RequestIdFilter())
    log = logging.getLogger("app.tests.request_ids")
    log.addHandler(handler)
    try:
        @app.get("/_test_log")
        def _log_something():
            log.warning("inside the request")
            return "ok"
        app.test_client().get("/_test_log", headers={"X-Request-ID": "req-abcdef123456"})
        log.warning("outside any request")
    finally:
        log.removeHandler(handler)
    inside, outside = (json.loads(line) for line in lines)
    assert inside["request_id"] == "req-abcdef123456" and inside["message"] == "inside the request"
    assert "request_id" not in outside


def test_gunicorns_access_lines_are_json_with_the_request_id(start_web):
    """PORTAL_LOG_FORMAT=json: gunicorn's access and error lines are in the app's JSON
    format; an access line names the request by the id the answer carried."""
    web = start_web(PORTAL_LOG_FORMAT="json", WEB_WORKERS=2)
    resp = requests.get(web.url + "/livez?probe=1", timeout=10)
    request_id = resp.headers["X-Request-ID"]  # nginx's $request_id

    def access_line() -> dict | None:
        for line in web.log().splitlines():
            if line.startswith("{") and '"gunicorn.access"' in line:
                entry = json.loads(line)
                if entry.get("request_id") == request_id:
                    return entry
        return None
    wait_until(lambda: access_line() is not None, 30, message="the request's access line")
    entry = access_line()
    assert (entry["method"], entry["path"], entry["query"], entry["status"]) == \
        ("GET", "/livez", "probe=1", 200)
    assert entry["levelname"] == "INFO" and isinstance(entry["duration_ms"], int)
    assert entry["time"] and entry["message"]
    gunicorn = [line for line in web.log().splitlines() if "gunicorn" in line]
    assert any('"gunicorn.error"' in line for line in gunicorn)  # "Booting worker", ...
    for line in gunicorn:
        assert json.loads(line)["name"].startswith("gunicorn"), line
