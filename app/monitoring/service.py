"""The health report of the admin page: every check of matching_and_import_db.monitoring
run at once, with this web process's inputs (settings, its pool, a Redis client with
short timeouts)."""

from __future__ import annotations

import time

import redis as redis_lib
from flask import current_app

from app.extensions import db
from matching_and_import_db.monitoring import errors, health, usage

ASIDE = ("errors", "usage")  # reported beside the components, not as one


def _pool_use() -> dict:
    pool = db.engine.pool
    try:
        # SQLAlchemy counts overflow from -pool_size up: only connections past the pool count
        return {"size": pool.size(), "checked_out": pool.checkedout(),
                "overflow": max(0, pool.overflow()), "idle": pool.checkedin()}
    except AttributeError:  # a pool kind without these counts
        return {}


def _health_redis(url: str, timeout: float) -> redis_lib.Redis:
    client = current_app.extensions.get("health_redis")
    if client is None:
        client = redis_lib.Redis.from_url(url, socket_timeout=timeout,
                                          socket_connect_timeout=timeout)
        current_app.extensions["health_redis"] = client
    return client


def _errors_check(redis) -> health.Component:
    per_minute = errors.errors_per_minute(redis, time.time())
    rate = errors.error_rate(per_minute)
    detail = {"newest": [e.__dict__ for e in errors.newest_errors(redis)],
              "per_minute": [{"minute": m, "errors": n} for m, n in per_minute],
              "rate": rate.__dict__,
              "rule": (f"warning when the last {errors.RECENT_MINUTES} minutes hold at least "
                       f"{errors.JUMP_MIN_ERRORS} errors at {errors.JUMP_FACTOR:g}× or more "
                       f"the rate per minute of the {errors.BASELINE_MINUTES} minutes before")}
    if rate.jump:
        return health.Component("errors", health.WARNING,
                                f"error rate jumped: {rate.recent} in the last "
                                f"{errors.RECENT_MINUTES} min ({rate.recent_per_minute}/min "
                                f"against {rate.baseline_per_minute}/min the hour before)",
                                detail)
    return health.Component("errors", health.OK,
                            f"{rate.recent} in the last {errors.RECENT_MINUTES} min, "
                            f"{rate.baseline} in the hour before", detail)


def _usage_check(dsn: str, timeout: float) -> health.Component:
    conn = health.connect(dsn, timeout)
    try:
        days = usage.daily_counts(conn)
        routes = usage.top_routes(conn)
    finally:
        conn.close()
    return health.Component("usage", health.OK, f"{sum(d.count for d in days)} requests in "
                            "14 days",
                            {"days": [dict(d.__dict__, day=d.day.isoformat()) for d in days],
                             "routes": [r.__dict__ for r in routes]})


def health_report() -> dict:
    settings = current_app.config["PORTAL"]
    timeout = settings.health_check_timeout_seconds
    redis = _health_redis(settings.redis_url, timeout)
    pool = _pool_use()
    checks = {
        "database": lambda: health.check_database(settings.libpq_dsn, timeout, pool),
        "redis": lambda: health.check_redis_and_schedulers(
            redis, settings.heartbeat_max_age_seconds),
        # the broker matters once the sensor subscriber has topics to read
        "broker": lambda: health.check_broker(
            settings.mqtt_url if settings.mqtt_topics else "", timeout),
        "oidc": lambda: health.check_issuer(settings.oidc_issuer, timeout),
        "errors": lambda: _errors_check(redis),
        "usage": lambda: _usage_check(settings.libpq_dsn, timeout),
    }
    # a check's own timeouts come first; the deadline catches one that hangs past them
    found = health.run_checks(checks, timeout + 1)
    components = [c for c in found if c.name not in ASIDE]
    aside = {c.name: c for c in found if c.name in ASIDE}
    return {"status": health.overall(components),
            "checked_at": time.time(),
            "components": [c.__dict__ for c in components],
            "errors": aside["errors"].__dict__,
            "usage": aside["usage"].__dict__}
