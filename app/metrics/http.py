"""The web processes' own metrics: requests by route and status with their latency, the
tile cache's hits and misses, the database pool in use, and which workers are up."""

from __future__ import annotations

import os
import time

from flask import Flask, g, request
from prometheus_client import Counter, Gauge, Histogram

REQUESTS = Counter("portal_http_requests", "HTTP requests answered",
                   ["method", "route", "status"])
LATENCY = Histogram("portal_http_request_seconds", "Seconds to answer a request", ["route"],
                    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30))
TILE_CACHE = Counter("portal_tile_cache", "Vector tile cache lookups per layer", ["result"])
DB_POOL_IN_USE = Gauge("portal_db_pool_checked_out",
                       "Database connections checked out of the pool",
                       multiprocess_mode="livesum")
WORKER_UP = Gauge("portal_web_worker_up", "1 for each web worker process that has served",
                  multiprocess_mode="liveall")


def _route() -> str:
    # the URL rule, never the path: one series per route, whatever ids a client sends
    rule = request.url_rule
    return rule.rule if rule is not None else "(unmatched)"


def init_http_metrics(app: Flask) -> None:
    pid_marked = False

    @app.before_request
    def _start():
        nonlocal pid_marked
        g.metrics_started = time.perf_counter()
        if not pid_marked:
            WORKER_UP.set(1)
            pid_marked = True

    @app.after_request
    def _record(response):
        started = g.pop("metrics_started", None)
        route = _route()
        REQUESTS.labels(request.method, route, str(response.status_code)).inc()
        if started is not None:
            LATENCY.labels(route).observe(time.perf_counter() - started)
        from app.extensions import db
        try:
            DB_POOL_IN_USE.set(db.engine.pool.checkedout())
        except (AttributeError, RuntimeError):  # no engine yet in this process
            pass
        return response


def tile_cache_result(hit: bool, layers: int = 1) -> None:
    TILE_CACHE.labels("hit" if hit else "miss").inc(layers)


def multiprocess_dir() -> str | None:
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None
