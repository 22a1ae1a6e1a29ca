"""/livez: the process answers. /readyz: it can do its work (database at head, Redis,
a live scheduler). Both answer JSON; /readyz answers 503 while anything is missing."""

from __future__ import annotations

import time

from flask import Blueprint, current_app, jsonify
from sqlalchemy import text

from app.auth.access import EVERYONE, access
from app.extensions import db, limiter
from app.redis_client import get_redis
from app.schema import schema_status
from scheduler.heartbeat import latest_heartbeat

bp = Blueprint("health", __name__)


@bp.get("/livez")
@access(EVERYONE)
@limiter.exempt
def livez():
    return jsonify({"status": "ok"})


@bp.get("/readyz")
@access(EVERYONE)
@limiter.exempt
def readyz():
    checks: dict[str, dict] = {}
    try:
        db.session.execute(text("SELECT 1"))
        ok, current, heads = schema_status()
        checks["database"] = {"ok": ok, "revision": sorted(current), "head": sorted(heads)}
    except Exception as exc:  # report, don't crash: this endpoint exists to say what is wrong
        checks["database"] = {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
    redis = get_redis()
    try:
        redis.ping()
        checks["redis"] = {"ok": True}
    except Exception as exc:
        checks["redis"] = {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
    if checks["redis"]["ok"]:
        max_age = current_app.config["PORTAL"].heartbeat_max_age_seconds
        beat = latest_heartbeat(redis)
        age = None if beat is None else round(time.time() - beat["at"], 1)
        checks["scheduler"] = {"ok": age is not None and age <= max_age,
                               "heartbeat_age_seconds": age,
                               "worker": beat and beat["worker"]}
    else:
        checks["scheduler"] = {"ok": False, "error": "redis unreachable"}
    ready = all(c["ok"] for c in checks.values())
    return jsonify({"status": "ready" if ready else "not ready", "checks": checks}), \
        200 if ready else 503
