"""Which worker processes are alive, so that the claims of a dead one are taken back in
seconds rather than when its lease runs out.

Every scheduler process keeps a key in Redis that lives ALIVE_SECONDS and is renewed every
BEAT_SECONDS by a thread of that process (scheduler/heartbeat.py). A process killed with
SIGKILL, or cut off from Redis, stops renewing it; once it has expired, any other worker
treats the rides and pipeline runs claimed under that process's name as free. Redis keeps
the time (the key's own expiry), so clocks of different hosts never matter.

Leases stay the last word: when Redis cannot be asked, nobody is declared dead and claims
are freed only as their leases run out.
"""

from __future__ import annotations

from collections.abc import Iterable

ALIVE_PREFIX = "worker:alive:"
BEAT_SECONDS = 1.0
ALIVE_SECONDS = 5.0


def mark_alive(redis, worker: str) -> None:
    redis.set(ALIVE_PREFIX + worker, b"1", px=int(ALIVE_SECONDS * 1000))


def mark_gone(redis, worker: str) -> None:
    redis.delete(ALIVE_PREFIX + worker)


def dead_workers(redis, workers: Iterable[str]) -> set[str]:
    """Those of these workers whose key has expired (or was never written). Nobody, while
    Redis itself is younger than a key's life: a restarted Redis has lost every key, and
    live workers have not all written theirs again yet."""
    names = sorted(set(workers))
    if not names or _redis_uptime(redis) < ALIVE_SECONDS:
        return set()
    pipe = redis.pipeline(transaction=False)
    for name in names:
        pipe.exists(ALIVE_PREFIX + name)
    return {name for name, alive in zip(names, pipe.execute(), strict=True) if not alive}


def _redis_uptime(redis) -> float:
    try:
        return float(redis.info("server")["uptime_in_seconds"])
    except Exception:  # INFO refused (some managed Redis services): trust the keys alone
        return float("inf")
