"""Every request has an id: the proxy's X-Request-ID when it looks like one, else a new
one; it is in the answer's X-Request-ID and in every JSON log line of the request."""

from __future__ import annotations

import json
import logging

from matching_and_import_db.settings.logging_setup import JsonFormatter, RequestIdFilter


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
