"""One Redis client (connection pool) per app, kept in app.extensions."""

from __future__ import annotations

import redis
from flask import Flask, current_app


def init_redis(app: Flask, url: str) -> None:
    app.extensions["redis"] = redis.Redis.from_url(url, socket_timeout=5,
                                                   socket_connect_timeout=5)


def get_redis() -> redis.Redis:
    return current_app.extensions["redis"]
