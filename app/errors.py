"""Domain errors → HTTP statuses, in one place. The API answers one JSON shape,
{"error": {"code": ..., "message": ...}}; pages get a friendly error page."""

from __future__ import annotations

import math
import time

from flask import Flask, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from app.extensions import limiter
from matching_and_import_db.errors import (
    Conflict,
    DomainError,
    Forbidden,
    InputError,
    NotFound,
    PayloadTooLarge,
    UnprocessableInput,
)

STATUS_BY_ERROR: dict[type[DomainError], tuple[int, str]] = {
    UnprocessableInput: (422, "unprocessable"),
    PayloadTooLarge: (413, "too_large"),
    InputError: (400, "invalid_input"),
    NotFound: (404, "not_found"),
    Forbidden: (403, "forbidden"),
    Conflict: (409, "conflict"),
}


def status_of(exc: DomainError) -> tuple[int, str]:
    """The status and code of a domain error: the most specific class in the table wins
    (UnprocessableInput before InputError)."""
    return next((STATUS_BY_ERROR[cls] for cls in type(exc).__mro__
                 if cls in STATUS_BY_ERROR), (400, "error"))


def wants_json() -> bool:
    if request.path.startswith("/api/") or request.path in ("/livez", "/readyz"):
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json"


def error_response(status: int, code: str, message: str, headers: dict | None = None):
    if wants_json():
        resp = jsonify({"error": {"code": code, "message": message}})
    else:
        resp = render_template("error.html", status=status, message=message)
    return resp, status, headers or {}


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(DomainError)
    def _domain(exc: DomainError):
        status, code = status_of(exc)
        return error_response(status, code, str(exc))

    @app.errorhandler(CSRFError)
    def _csrf(exc: CSRFError):
        return error_response(400, "csrf", f"the form's security token is missing or stale: "
                                           f"{exc.description} Reload the page and try again.")

    @app.errorhandler(429)
    def _ratelimited(exc: HTTPException):
        # Retry-After from the breached limit's window: read from Redis only here, on the
        # refusal, not on every request (see RATELIMIT_HEADERS_ENABLED in create_app)
        breached = limiter.current_limit
        retry = max(1, math.ceil(breached.window[0] - time.time())) if breached else 60
        return error_response(429, "rate_limited", f"too many requests: limit {exc.description}",
                              headers={"Retry-After": str(retry)})

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException):
        code = (exc.name or "error").lower().replace(" ", "_")
        # the exception's own headers, such as a 405's Allow (RFC 9110), but our body
        headers = {k: v for k, v in exc.get_headers() if k.lower() != "content-type"}
        return error_response(exc.code or 500, code, exc.description or exc.name, headers)
