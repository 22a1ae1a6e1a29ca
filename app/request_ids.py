"""A request id per request: the proxy's X-Request-ID (nginx's $request_id) when it looks
like one, else a new one; in every log line of the request (logging_setup.REQUEST_ID) and
in the answer's X-Request-ID header."""

from __future__ import annotations

import re
import uuid

from flask import g, request

from matching_and_import_db.settings.logging_setup import REQUEST_ID

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


def init_request_ids(app) -> None:
    @app.before_request
    def _request_id():
        given = request.headers.get("X-Request-ID", "")
        g.request_id = given if _REQUEST_ID.match(given) else uuid.uuid4().hex
        g.request_id_token = REQUEST_ID.set(g.request_id)

    @app.after_request
    def _answer_id(response):
        if g.get("request_id"):
            response.headers["X-Request-ID"] = g.request_id
        return response

    @app.teardown_request
    def _forget_request_id(_exc):
        token = g.pop("request_id_token", None)
        if token is not None:
            REQUEST_ID.reset(token)
