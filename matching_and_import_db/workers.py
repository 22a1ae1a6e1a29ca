"""Which worker processes are alive: heartbeats for /readyz and the container healthcheck,
and liveness keys so that the claims of a dead one are taken back in seconds rather than
when its lease runs out. The scheduler writes both keys; the web app and the healthcheck
read them here, so neither needs the worker process's code.

Heartbeat: one key per scheduler process (HEARTBEAT_PREFIX + worker name, "host:pid"),
holding {"worker", "at"} and expiring heartbeat_max_age_seconds after the last beat;
readers also judge the age of "at", so a process that hangs with its key alive is stale.

Liveness:
Every scheduler process keeps a key in Redis that lives ALIVE_SECONDS and is renewed every
BEAT_SECONDS by a thread of that process (scheduler/heartbeat.py), beside a long-lived key
saying that this worker beats at all. A process killed with SIGKILL, or cut off from
Redis, stops renewing the first; once it has expired, any other worker treats the rides
and pipeline runs claimed under that process's name as free. Redis keeps the time (the
keys' own expiry), so clocks of different hosts never matter.

Leases stay the last word: a worker that never beat (work run in-process by a test, a
benchmark or a command), every worker after Redis lost its keys (a restart, a flush), and
everyone while Redis cannot be asked, are never declared dead: their claims are freed
only as their leases run out.
"""

from __future__ import annotations

import time
from collections.abc import Iterable

import orjson

HEARTBEAT_PREFIX = "scheduler:heartbeat:"
ALIVE_PREFIX = "worker:alive:"
BEATS_PREFIX = "worker:beats:"
BEAT_SECONDS = 1.0
ALIVE_SECONDS = 5.0
BEATS_SECONDS = 7 * 24 * 3600  # "this worker beats": outlives any lease by far


def mark_alive(redis, worker: str) -> None:
    pipe = redis.pipeline(transaction=False)
    pipe.set(ALIVE_PREFIX + worker, b"1", px=int(ALIVE_SECONDS * 1000))
    pipe.set(BEATS_PREFIX + worker, b"1", ex=BEATS_SECONDS)
    pipe.execute()


def mark_gone(redis, worker: str) -> None:
    redis.delete(ALIVE_PREFIX + worker, BEATS_PREFIX + worker)


def dead_workers(redis, workers: Iterable[str]) -> set[str]:
    """Those of these workers known to beat whose liveness key has expired."""
    names = sorted(set(workers))
    if not names:
        return set()
    pipe = redis.pipeline(transaction=False)
    for name in names:
        pipe.exists(ALIVE_PREFIX + name)
        pipe.exists(BEATS_PREFIX + name)
    found = pipe.execute()
    return {name for name, alive, beats in zip(names, found[::2], found[1::2], strict=True)
            if beats and not alive}


# --- heartbeats --------------------------------------------------------------------------

def beat(redis, worker: str, ttl_seconds: int) -> None:
    redis.set(HEARTBEAT_PREFIX + worker, orjson.dumps({"worker": worker, "at": time.time()}),
              ex=ttl_seconds)


def clear_heartbeat(redis, worker: str) -> None:
    redis.delete(HEARTBEAT_PREFIX + worker)


def latest_heartbeat(redis, worker_prefix: str = "") -> dict | None:
    """The newest heartbeat ({"worker", "at"}) of the workers whose name starts with
    worker_prefix ("host:" for one host's), or None when none beats."""
    latest = None
    for key in redis.scan_iter(match=HEARTBEAT_PREFIX + worker_prefix + "*", count=100):
        raw = redis.get(key)
        if raw:
            data = orjson.loads(raw)
            if latest is None or data["at"] > latest["at"]:
                latest = data
    return latest
