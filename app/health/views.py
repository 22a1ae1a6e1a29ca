"""/livez: the process answers. /readyz: it can do its work (database at head, Redis,
a live scheduler, and a connected sensor subscriber when PORTAL_MQTT_TOPICS is set).
Both answer JSON; /readyz answers 503 while the database or the scheduler is missing, and
200 "degraded" (saying what is missing) without Redis."""

from __future__ import annotations

import time

from flask import Blueprint, current_app, jsonify
from sqlalchemy import text

from app.auth.access import EVERYONE, access
from app.extensions import db, limiter
from app.redis_client import get_redis
from matching_and_import_db.live.mqtt_subscriber import subscriber_health
from matching_and_import_db.schema import schema_status
from matching_and_import_db.workers import latest_heartbeat

bp = Blueprint("health", __name__)


@bp.get("/livez")
@access(EVERYONE)
@limiter.exempt
def livez():
    return jsonify({"status": "ok"})


# what stops working while Redis is unreachable; everything else is served from PostgreSQL
WITHOUT_REDIS = [
    "rate limits are counted per app process",
    "map tiles are rendered on every request (tile cache bypassed)",
    "scheduler jobs that take a lock wait (pipelines, housekeeping); rides are still processed",
    "pipeline progress and the scheduler heartbeat cannot be read",
    "errors of the processes are not collected for the admin health page",
]


def issuer_keys_check(redis_ok: bool) -> dict:
    """Machine clients' tokens can be checked: the client issuer's JWKS (from the shared
    cache, fetched when missing; without Redis fetched directly)."""
    from app.workspaces.actors import key_store
    keys = key_store()
    if not keys.issuer:
        return {"ok": True, "issuer": None}
    try:
        data = keys.cached() if redis_ok else keys.fetch()
        return {"ok": bool(data["keys"]), "issuer": keys.issuer, "keys": len(data["keys"])}
    except Exception as exc:  # noqa: BLE001 - reported, like every other check here
        return {"ok": False, "issuer": keys.issuer, "error": type(exc).__name__}


def sensors_check(redis) -> dict:
    """The sensor subscribers (a process role of their own) that reported within 10 s;
    ready while at least one of them is connected to the broker."""
    alive = subscriber_health(redis)
    return {"ok": any(s["connected"] for s in alive),
            "subscribers": [{k: s[k] for k in ("name", "connected", "received", "stored",
                                               "invalid", "queued")} for s in alive]}


@bp.get("/readyz")
@access(EVERYONE)
@limiter.exempt
def readyz():
    """200 "ready"; 200 "degraded" (Redis unreachable: the app serves, `degraded` says
    what is missing); 503 "not ready" (database unreachable or behind, or no live
    scheduler)."""
    checks: dict[str, dict] = {}
    try:
        db.session.execute(text("SELECT 1"))
        conn = db.engine.raw_connection()
        try:
            schema = schema_status(conn)
        finally:
            conn.close()
        checks["database"] = {"ok": schema.at_head, "revision": sorted(schema.current),
                              "head": sorted(schema.heads)}
    except Exception as exc:  # report, don't crash: this endpoint exists to say what is wrong
        checks["database"] = {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
    redis = get_redis()
    try:
        redis.ping()
        checks["redis"] = {"ok": True}
    except Exception as exc:
        checks["redis"] = {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
    checks["client_issuer_jwks"] = issuer_keys_check(checks["redis"]["ok"])
    degraded: list[str] = []
    if checks["redis"]["ok"]:
        max_age = current_app.config["PORTAL"].heartbeat_max_age_seconds
        beat = latest_heartbeat(redis)
        age = None if beat is None else round(time.time() - beat["at"], 1)
        checks["scheduler"] = {"ok": age is not None and age <= max_age,
                               "heartbeat_age_seconds": age,
                               "worker": beat and beat["worker"]}
        if current_app.config["PORTAL"].mqtt_topics:
            checks["sensors"] = sensors_check(redis)
        ready = all(c["ok"] for c in checks.values())
    else:  # the heartbeat lives in Redis: unknown, so it does not decide readiness
        checks["scheduler"] = {"ok": None, "error": "unknown: redis unreachable"}
        degraded = WITHOUT_REDIS
        ready = checks["database"]["ok"]
    status = "not ready" if not ready else "degraded" if degraded else "ready"
    body = {"status": status, "checks": checks}
    if degraded:
        body["degraded"] = degraded
    return jsonify(body), 200 if ready else 503
