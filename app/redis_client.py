"""One Redis client (connection pool) per app, kept in app.extensions.

Redis holds nothing only there (DESIGN.md), so pages and APIs that need only PostgreSQL
keep answering while it is gone: callers that can do without it go through `if_redis`,
which answers a default instead of failing. After a failure Redis is left alone for
RETRY_SECONDS, so an outage costs each request nothing, not a connect timeout.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import TypeVar

import redis
from flask import Flask, current_app

log = logging.getLogger(__name__)

T = TypeVar("T")
RETRY_SECONDS = 2.0


class RedisOutage:
    """Whether this process saw Redis fail just now; logs once per outage, not per call."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._down_until = 0.0
        self.down_since: float | None = None

    def skipping(self) -> bool:
        return time.monotonic() < self._down_until

    def failed(self, what: str, exc: Exception) -> None:
        with self._lock:
            self._down_until = time.monotonic() + RETRY_SECONDS
            if self.down_since is None:
                self.down_since = time.time()
                log.warning("Redis unreachable (%s: %s): going on without it (no tile "
                            "cache, rate limits per process, no pipeline progress)",
                            what, exc)

    def succeeded(self) -> None:
        if self.down_since is not None:
            with self._lock:
                if self.down_since is not None:
                    log.info("Redis is back after %.0fs", time.time() - self.down_since)
                    self.down_since = None


def init_redis(app: Flask, url: str) -> None:
    app.extensions["redis"] = redis.Redis.from_url(url, socket_timeout=2,
                                                   socket_connect_timeout=2)
    app.extensions["redis_outage"] = RedisOutage()


def get_redis() -> redis.Redis:
    return current_app.extensions["redis"]


def redis_outage() -> RedisOutage:
    return current_app.extensions["redis_outage"]


def if_redis(what: str, default: T, func: Callable[..., T], *args, **kwargs) -> T:
    """func(*args, **kwargs), or `default` while Redis is unreachable."""
    outage = redis_outage()
    if outage.skipping():
        return default
    try:
        result = func(*args, **kwargs)
    except redis.RedisError as exc:
        outage.failed(what, exc)
        return default
    outage.succeeded()
    return result
