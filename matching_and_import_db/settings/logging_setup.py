"""Logging, configured once per process: readable lines in development, JSON in production."""

from __future__ import annotations

import logging
import sys

import orjson

from matching_and_import_db.settings.portal import Settings

_FIELDS = ("name", "levelname", "message")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        record.message = record.getMessage()
        data = {"time": self.formatTime(record), **{k: getattr(record, k) for k in _FIELDS}}
        if record.exc_info:
            data["exc"] = self.formatException(record.exc_info)
        return orjson.dumps(data).decode()


def configure_logging(settings: Settings) -> None:
    root = logging.getLogger()
    if getattr(root, "_portal_configured", False):
        return
    handler = logging.StreamHandler(sys.stderr)
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
