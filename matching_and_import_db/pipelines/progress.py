"""Live progress of pipeline runs in Redis: phase, items done/total, elapsed time and ETA.

The key expires unless renewed, so a run whose worker died stops showing in the banner.
The ETA comes from the same pipeline's earlier successful runs (seconds per phase), refined
by items done/total within the current phase when the phase knows its total.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field

import orjson

from matching_and_import_db.workers import dead_workers

KEY_PREFIX = "progress:pipeline:"


@dataclass
class Progress:
    run_id: int
    pipeline: str
    phases: list[str]
    started_at: float
    phase: str = ""
    phase_started_at: float = 0.0
    done: int = 0
    total: int | None = None
    # mean seconds per phase from earlier successful runs; empty on the first run
    history: dict[str, float] = field(default_factory=dict)
    worker: str = ""  # the process running it: the banner drops the run once it is gone

    def eta_seconds(self, now: float) -> float | None:
        if not self.phase:
            return None
        elapsed_phase = now - self.phase_started_at
        if self.total and self.done:
            remaining = elapsed_phase * (self.total - self.done) / self.done
        elif self.phase in self.history:
            remaining = max(self.history[self.phase] - elapsed_phase, 0.0)
        else:
            return None
        later = self.phases[self.phases.index(self.phase) + 1:]
        if any(p not in self.history for p in later):
            return None
        return remaining + sum(self.history[p] for p in later)

    def snapshot(self, now: float | None = None) -> dict:
        now = time.time() if now is None else now
        eta = self.eta_seconds(now)
        data = asdict(self)
        del data["history"]
        data.update(
            phase_index=self.phases.index(self.phase) + 1 if self.phase else 0,
            phase_count=len(self.phases),
            elapsed_seconds=round(now - self.started_at, 1),
            eta_seconds=None if eta is None else round(eta, 1),
            updated_at=now,
        )
        return data


class ProgressReporter:
    """Writes a run's progress to Redis, at most every `min_interval` seconds for item counts."""

    def __init__(self, redis, progress: Progress, ttl_seconds: int, min_interval: float = 0.5):
        self._redis = redis
        self.progress = progress
        self._ttl = ttl_seconds
        self._min_interval = min_interval
        self._last_write = 0.0

    @property
    def key(self) -> str:
        return KEY_PREFIX + self.progress.pipeline

    def enter_phase(self, phase: str) -> None:
        self.progress.phase = phase
        self.progress.phase_started_at = time.time()
        self.progress.done, self.progress.total = 0, None
        self.write()

    def items(self, done: int, total: int | None = None) -> None:
        self.progress.done = done
        if total is not None:
            self.progress.total = total
        if time.time() - self._last_write >= self._min_interval:
            self.write()

    def write(self) -> None:
        self._last_write = time.time()
        self._redis.set(self.key, orjson.dumps(self.progress.snapshot()), ex=self._ttl)

    def clear(self) -> None:
        self._redis.delete(self.key)


def active_runs(redis) -> list[dict]:
    """Progress of every run that is running now, for the banner; ETA recomputed on read.
    A run whose worker's process is gone (its liveness key expired, seconds after it died)
    is left out, though its progress key has not expired yet."""
    found = []
    for key in redis.scan_iter(match=KEY_PREFIX + "*", count=100):
        raw = redis.get(key)
        if raw is not None:
            found.append(orjson.loads(raw))
    dead = dead_workers(redis, [d["worker"] for d in found if d.get("worker")])
    out = []
    for data in found:
        if data.pop("worker", None) in dead:  # the name of a host is nobody's business
            continue
        now = time.time()
        # time moved on since the worker wrote: elapsed and ETA are brought up to date
        age = now - data["updated_at"]
        data["elapsed_seconds"] = round(data["elapsed_seconds"] + age, 1)
        if data["eta_seconds"] is not None:
            data["eta_seconds"] = round(max(data["eta_seconds"] - age, 0.0), 1)
        out.append(data)
    return sorted(out, key=lambda d: d["started_at"])
