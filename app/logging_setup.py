"""Logging, configured once per process: readable lines in development, JSON in production."""

from __future__ import annotations

import logging
import re
import sys
import uuid

import orjson
from flask import g, has_request_context, request

from app.settings import Settings

_FIELDS = ("name", "levelname", "message")
# an id a proxy sends (nginx's $request_id) is kept when it looks like one, else ours
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


class RequestIdFilter(logging.Filter):
    """Every record logged while a request is served carries its request id."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = g.get("request_id") if has_request_context() else None
        return True


def init_request_ids(app) -> None:
    """A request id per request (the proxy's X-Request-ID, or a new one), in every log
    line of the request and in the answer's X-Request-ID header."""

    @app.before_request
    def _request_id():
        given = request.headers.get("X-Request-ID", "")
        g.request_id = given if _REQUEST_ID.match(given) else uuid.uuid4().hex

    @app.after_request
    def _answer_id(response):
        if g.get("request_id"):
            response.headers["X-Request-ID"] = g.request_id
        return response


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        record.message = record.getMessage()
        data = {"time": self.formatTime(record), **{k: getattr(record, k) for k in _FIELDS}}
        if getattr(record, "request_id", None):
            data["request_id"] = record.request_id
        if record.exc_info:
            data["exc"] = self.formatException(record.exc_info)
        return orjson.dumps(data).decode()


def configure_logging(settings: Settings) -> None:
    root = logging.getLogger()
    if getattr(root, "_portal_configured", False):
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(RequestIdFilter())
    if settings.log_format == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root.addHandler(handler)
    root.setLevel(settings.log_level.upper())
    # per-tick chatter of libraries; their warnings and errors still show
    for noisy in ("apscheduler.executors", "apscheduler.scheduler", "alembic.runtime.plugins"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    root._portal_configured = True  # type: ignore[attr-defined]
