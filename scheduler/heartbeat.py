"""Scheduler heartbeats in Redis: one key per process, expiring on its own when it dies."""

from __future__ import annotations

import time

import orjson

KEY_PREFIX = "scheduler:heartbeat:"


def beat(redis, worker: str, ttl_seconds: int) -> None:
    redis.set(KEY_PREFIX + worker, orjson.dumps({"worker": worker, "at": time.time()}),
              ex=ttl_seconds)


def latest_heartbeat(redis) -> dict | None:
    latest = None
    for key in redis.scan_iter(match=KEY_PREFIX + "*", count=100):
        raw = redis.get(key)
        if raw:
            data = orjson.loads(raw)
            if latest is None or data["at"] > latest["at"]:
                latest = data
    return latest


def clear(redis, worker: str) -> None:
    redis.delete(KEY_PREFIX + worker)
