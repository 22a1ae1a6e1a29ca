"""Logging, configured once per process: readable lines in development, JSON in production."""

from __future__ import annotations

import logging
import sys
from collections.abc import Mapping
from contextvars import ContextVar

import orjson

from matching_and_import_db.settings.portal import VARIABLES, Settings

_FIELDS = ("name", "levelname", "message")
# The request id of the request being served, if any: set by the web app for each request
# (app/request_ids.py), empty in the scheduler and the migrator. A context variable, so
# that this module needs no web framework.
REQUEST_ID: ContextVar[str | None] = ContextVar("request_id", default=None)


class RequestIdFilter(logging.Filter):
    """Every record logged while a request is served carries its request id."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = REQUEST_ID.get()
        return True


# gunicorn's access log records carry its atoms (glogging.Logger.atoms) as their args: the
# fields of a request's JSON line, named as the app's lines would name them
ACCESS_ATOMS = {"remote": "h", "method": "m", "path": "U", "query": "q", "status": "s",
                "bytes": "B", "duration_ms": "M", "user_agent": "a"}


def _access_fields(atoms: Mapping) -> dict:
    fields = {name: atoms.get(atom) for name, atom in ACCESS_ATOMS.items()}
    if isinstance(fields["status"], str) and fields["status"].isdigit():
        fields["status"] = int(fields["status"])
    # the access line is written after the request: its id is the answer's X-Request-ID
    return {**{k: v for k, v in fields.items() if v not in (None, "", "-")},
            "request_id": atoms.get("{x-request-id}o")}


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time, logger, level, message, the request id while a
    request is served; gunicorn's access lines (deploy/gunicorn.conf.py) also carry the
    request's method, path, status, bytes and duration."""

    def format(self, record: logging.LogRecord) -> str:
        record.message = record.getMessage()
        data = {"time": self.formatTime(record), **{k: getattr(record, k) for k in _FIELDS}}
        if record.name == "gunicorn.access" and isinstance(record.args, Mapping):
            data.update(_access_fields(record.args))
        if getattr(record, "request_id", None):
            data["request_id"] = record.request_id
        elif data.get("request_id") is None:
            data.pop("request_id", None)
        if record.exc_info:
            data["exc"] = self.formatException(record.exc_info)
        return orjson.dumps(data).decode()


def secret_values(settings: Settings) -> list[str]:
    """What no collected log line may show: the secret settings and the passwords in URLs."""
    from urllib.parse import urlsplit
    values = [getattr(settings, var.name) for var in VARIABLES if var.secret]
    for url in (settings.database_url, settings.redis_url, settings.mqtt_url):
        values.append(urlsplit(url).password or "")
    return [v for v in values if isinstance(v, str) and v]


def configure_logging(settings: Settings, role: str = "web") -> None:
    """role names the process (web, scheduler, sensors, stream, migrator) in the errors it
    reports."""
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
    # ERROR records of every process, for the admin health page (never blocks on Redis)
    from matching_and_import_db.monitoring.errors import RecentErrorsHandler
    collector = RecentErrorsHandler(settings.redis_url, role, secret_values(settings))
    for record_filter in handler.filters:  # what the lines get (a request id), it gets too
        collector.addFilter(record_filter)
    root.addHandler(collector)
    root.setLevel(settings.log_level.upper())
    # per-tick chatter of libraries; their warnings and errors still show
    for noisy in ("apscheduler.executors", "apscheduler.scheduler", "alembic.runtime.plugins"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    root._portal_configured = True  # type: ignore[attr-defined]
