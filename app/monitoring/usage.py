"""Counting what is used, per request: the kind of route and its URL rule, nothing about
who asked (matching_and_import_db/monitoring/usage.py keeps the totals)."""

from __future__ import annotations

import logging

from flask import Flask, Response, request

from matching_and_import_db.monitoring.usage import UsageCounter

log = logging.getLogger(__name__)


def route_kind(path: str, method: str, status: int, mimetype: str | None) -> str | None:
    """page, tile, api, or None for what is not counted (static files, health probes,
    metrics, redirects, errors)."""
    if status >= 400:
        return None
    if path.startswith("/tiles/") and path.endswith(".mvt"):
        return "tile"  # 304 too: the map asked for it
    if mimetype == "text/html":
        return "page" if method == "GET" and status == 200 else None
    if path.startswith(("/api/", "/ogc/", "/tiles/", "/styles/")):
        return "api"
    return None


def init_usage_counting(app: Flask, flush_seconds: float) -> None:
    counter = UsageCounter(flush_seconds)
    app.extensions["usage_counter"] = counter

    @app.after_request
    def _count(response: Response) -> Response:
        rule = request.url_rule
        if rule is None:
            return response
        kind = route_kind(request.path, request.method, response.status_code,
                          response.mimetype)
        if kind is not None and counter.add(kind, rule.rule):
            _flush(counter)
        return response


def _flush(counter: UsageCounter) -> None:
    from app.extensions import db
    conn = None
    try:
        conn = db.engine.raw_connection()  # not the request's transaction: commits alone
        counter.flush(conn)
    except Exception as exc:  # kept for the next flush; a count never fails a request
        log.warning("usage counts not written (%s); kept for the next try",
                    type(exc).__name__)
    finally:
        if conn is not None:
            conn.close()


def init_plausible(app: Flask, script_url: str, domain: str) -> None:
    """With PORTAL_PLAUSIBLE_SCRIPT_URL and _DOMAIN, every page loads Plausible's script
    (app/security_headers.py allows its origin); without them, nothing of it."""
    plausible = {"src": script_url, "domain": domain} if script_url and domain else None

    @app.context_processor
    def _plausible():
        return {"plausible": plausible}
