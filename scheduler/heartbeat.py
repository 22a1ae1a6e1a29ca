"""Scheduler heartbeats in Redis: one key per process, expiring on its own when it dies.

Two of them: the heartbeat (/readyz and the container healthcheck read its age) and the
liveness key of matching_and_import_db.workers, renewed every second by a thread of its
own so that other workers take back a dead process's claims within seconds.
"""

from __future__ import annotations

import logging
import threading
import time

import orjson

from matching_and_import_db import workers

log = logging.getLogger(__name__)

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


class LivenessBeat(threading.Thread):
    """Keeps this process's liveness key alive until stop(); a process killed outright
    stops with it, and its key expires workers.ALIVE_SECONDS later."""

    def __init__(self, redis, worker: str):
        super().__init__(daemon=True, name="liveness")
        self._redis, self._worker = redis, worker
        self._stopped = threading.Event()
        self._failing = False

    def beat(self) -> None:
        try:
            workers.mark_alive(self._redis, self._worker)
            self._failing = False
        except Exception:  # Redis away: others fall back on our leases, which we renew
            if not self._failing:
                log.warning("cannot write the liveness key of %s", self._worker,
                            exc_info=True)
            self._failing = True

    def run(self) -> None:
        while not self._stopped.wait(workers.BEAT_SECONDS):
            self.beat()

    def stop(self) -> None:
        self._stopped.set()
        self.join()
        try:
            workers.mark_gone(self._redis, self._worker)
        except Exception:
            pass  # the key expires on its own
