"""Pipeline runs: requesting, scheduling, claiming, executing and giving up on dead ones.

Safety rests on three things:
- a run row is claimed with FOR UPDATE SKIP LOCKED, so two workers never take the same run;
- one Redis lock per pipeline (redis-py Lock, renewed while the run lives), so a scheduled
  run and a manual "run now" never overlap;
- a lease on the run row, renewed with the lock: when a worker dies, the lease runs out and
  the run is marked failed; the phases publish in one transaction, so a dead run leaves the
  published data exactly as it was.
"""

from __future__ import annotations

import logging
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
from psycopg2.extras import Json
from redis.exceptions import LockError, RedisError

from matching_and_import_db.errors import DomainError
from matching_and_import_db.pipelines.base import RunContext
from matching_and_import_db.pipelines.kinds import get_kind
from matching_and_import_db.pipelines.progress import KEY_PREFIX, Progress, ProgressReporter
from matching_and_import_db.pipelines.schedules import latest_due_slot
from matching_and_import_db.pipelines.sources import SourcePolicy
from matching_and_import_db.sqlfiles import fetch_as, load_sql
from matching_and_import_db.tilecache import TileInvalidator

log = logging.getLogger(__name__)

HISTORY_RUNS = 5
PACKAGE = "matching_and_import_db.pipelines"


@dataclass
class ClaimedRun:
    run_id: int
    pipeline_id: int
    pipeline: str
    kind: str
    config: dict


def request_run(conn, pipeline_id: int, requested_by: int | None = None) -> int:
    """Queue a manual run; a manual run already waiting is returned instead of a second one."""
    with conn.cursor() as cur:
        cur.execute(load_sql(PACKAGE, "lock_pipeline.sql"), {"pipeline_id": pipeline_id})
        cur.execute(load_sql(PACKAGE, "queued_manual_run.sql"), {"pipeline_id": pipeline_id})
        row = cur.fetchone()
        if row is None:
            cur.execute(load_sql(PACKAGE, "insert_manual_run.sql"),
                        {"pipeline_id": pipeline_id, "requested_by": requested_by})
            row = cur.fetchone()
    conn.commit()
    return row[0]


def enqueue_due_runs(conn, now: datetime | None = None) -> list[int]:
    """Queue one run per pipeline whose schedule has a slot due; safe in many processes."""
    now = now or datetime.now(UTC)
    created = []
    with conn.cursor() as cur:
        cur.execute(load_sql(PACKAGE, "scheduled_pipelines.sql"))
        for pipeline_id, schedule, created_at, last_slot in cur.fetchall():
            try:
                slot = latest_due_slot(schedule, max(filter(None, (last_slot, created_at))), now)
            except DomainError as exc:
                log.warning("pipeline %s has a bad schedule: %s", pipeline_id, exc)
                continue
            if slot is None:
                continue
            # A queued scheduled run not yet started absorbs later slots (coalescing).
            cur.execute(load_sql(PACKAGE, "insert_scheduled_run.sql"),
                        {"pipeline_id": pipeline_id, "slot": slot})
            row = cur.fetchone()
            if row:
                created.append(row[0])
    conn.commit()
    return created


def claim_next_run(conn, worker: str, lease_seconds: int) -> ClaimedRun | None:
    with conn.cursor() as cur:
        cur.execute(load_sql(PACKAGE, "claim_run.sql"),
                    {"worker": worker, "lease_seconds": lease_seconds})
        claims = fetch_as(cur, ClaimedRun)
    conn.commit()
    return claims[0] if claims else None


def _release_claim(conn, run_id: int) -> None:
    with conn.cursor() as cur:
        cur.execute(load_sql(PACKAGE, "release_run.sql"), {"run_id": run_id})
    conn.commit()


def abandon_expired_runs(conn, redis=None, dead_workers: list[str] | None = None
                         ) -> list[int]:
    """Runs whose worker stopped renewing the lease, or whose worker's process is gone
    (dead_workers: matching_and_import_db.workers), are failed, naming the phase they were
    in."""
    with conn.cursor() as cur:
        cur.execute(load_sql(PACKAGE, "abandon_expired_runs.sql"),
                    {"dead": list(dead_workers or [])})
        rows = cur.fetchall()
    conn.commit()
    for run_id, name in rows:
        log.warning("run %s of pipeline %s abandoned (its worker is gone)", run_id, name)
        if redis is not None:
            raw = redis.get(KEY_PREFIX + name)
            if raw and orjson.loads(raw).get("run_id") == run_id:
                redis.delete(KEY_PREFIX + name)
    return [r[0] for r in rows]


def run_holders(conn) -> set[str]:
    """The workers of the runs now running."""
    with conn.cursor() as cur:
        cur.execute(load_sql(PACKAGE, "run_holders.sql"))
        names = {r[0] for r in cur.fetchall()}
    conn.commit()
    return names


def phase_history(conn, pipeline_id: int) -> dict[str, float]:
    """Mean seconds per phase over the pipeline's last successful runs."""
    with conn.cursor() as cur:
        cur.execute(load_sql(PACKAGE, "phase_history.sql"),
                    {"pipeline_id": pipeline_id, "runs": HISTORY_RUNS})
        rows = [r[0] for r in cur.fetchall()]
    sums: dict[str, list[float]] = {}
    for phases in rows:
        for name, seconds in phases.items():
            sums.setdefault(name, []).append(seconds)
    return {name: sum(v) / len(v) for name, v in sums.items()}


class _Keepalive(threading.Thread):
    """Renews the pipeline lock, the run's lease and the progress key while the run lives."""

    def __init__(self, lock, connect: Callable[[], Any], run_id: int, lease: int,
                 reporter: ProgressReporter):
        super().__init__(daemon=True, name=f"keepalive-run{run_id}")
        self._lock, self._connect, self._run_id = lock, connect, run_id
        self._lease, self._reporter = lease, reporter
        self._stopped = threading.Event()
        self.lost = False

    def run(self) -> None:
        conn = self._connect()
        conn.autocommit = True
        try:
            while not self._stopped.wait(self._lease / 3):
                try:
                    self._lock.extend(self._lease, replace_ttl=True)
                except LockError:
                    self.lost = True
                    log.error("run %s lost its pipeline lock", self._run_id)
                    return
                with conn.cursor() as cur:
                    cur.execute(load_sql(PACKAGE, "renew_run_lease.sql"),
                                {"lease_seconds": self._lease, "run_id": self._run_id})
                self._reporter.write()
        finally:
            conn.close()

    def stop(self) -> None:
        self._stopped.set()
        self.join()


class RunWorker:
    """Claims queued runs and executes them; one instance per scheduler process."""

    def __init__(self, connect: Callable[[], Any], redis, *, worker: str, lease_seconds: int,
                 data_dir: str, sources: SourcePolicy | None = None,
                 tiles: TileInvalidator | None = None):
        self.connect = connect  # returns a new psycopg2 connection
        self.tiles = tiles  # the tile cache, told what a run published
        self.sources = sources or SourcePolicy()  # none given: no file, only public URLs
        self.redis = redis
        self.worker = worker
        self.lease_seconds = lease_seconds
        self.data_dir = data_dir

    def run_pending(self, should_stop: Callable[[], bool] = lambda: False) -> int:
        """Execute queued runs until none is left (or the process is stopping)."""
        executed = 0
        conn = self.connect()
        try:
            # one call at a time per worker: a run still held under our name was left by an
            # earlier call that lost its database connection; fail it now, not in a lease
            abandon_expired_runs(conn, self.redis, [self.worker])
            while not should_stop():
                claimed = claim_next_run(conn, self.worker, self.lease_seconds)
                if claimed is None:
                    break
                lock = self.redis.lock(get_kind(claimed.kind).lock_name(claimed.pipeline),
                                       timeout=self.lease_seconds, blocking=False,
                                       thread_local=False)
                try:
                    acquired = lock.acquire()
                except RedisError:
                    # no Redis, no overlap lock: the run waits in the queue (fail safe)
                    _release_claim(conn, claimed.run_id)
                    raise
                if not acquired:
                    # another process runs this pipeline (or one sharing its lock): try later
                    _release_claim(conn, claimed.run_id)
                    break
                try:
                    self.execute(claimed, conn, lock)
                finally:
                    try:
                        lock.release()
                    except LockError:
                        pass  # expired: nothing to release
                executed += 1
        finally:
            conn.close()
        return executed

    def execute(self, claimed: ClaimedRun, conn, lock) -> str:
        kind = get_kind(claimed.kind)
        progress = Progress(run_id=claimed.run_id, pipeline=claimed.pipeline,
                            phases=kind.phase_names, started_at=time.time(),
                            history=phase_history(conn, claimed.pipeline_id),
                            worker=self.worker)
        reporter = ProgressReporter(self.redis, progress, ttl_seconds=self.lease_seconds * 2)
        keepalive = _Keepalive(lock, self.connect, claimed.run_id, self.lease_seconds, reporter)
        work_conn = self.connect()
        ctx = RunContext(run_id=claimed.run_id, pipeline=claimed.pipeline, config=claimed.config,
                         conn=work_conn, data_dir=self.data_dir, reporter=reporter,
                         redis=self.redis, tiles=self.tiles, sources=self.sources,
                         lock_lost=lambda: keepalive.lost)
        phase_seconds: dict[str, float] = {}
        status, message = "succeeded", None
        keepalive.start()
        try:
            ctx.config = kind.validate_config(claimed.config or {})
            for phase in kind.phases:
                self._enter_phase(conn, claimed.run_id, phase.name)
                reporter.enter_phase(phase.name)
                started = time.monotonic()
                phase.run(ctx)
                phase_seconds[phase.name] = round(time.monotonic() - started, 3)
        except DomainError as exc:
            status, message = "failed", f"{progress.phase or 'setup'}: {exc}"
            ctx.log(message, level=logging.ERROR)
        except Exception as exc:  # a bug or an outage: keep where it happened in the run's log
            status = "failed"
            message = f"{progress.phase or 'setup'}: unexpected {type(exc).__name__}"
            ctx.log("%s\n%s", message, _where(exc), level=logging.ERROR)
        finally:
            try:
                kind.cleanup(ctx)
            except Exception:
                log.exception("cleanup of run %s failed", claimed.run_id)
            keepalive.stop()
            work_conn.close()
            reporter.clear()
        if status == "succeeded":
            message = _summary(ctx.counts)
        self._finish(conn, claimed.run_id, status, message, ctx, phase_seconds)
        log.info("run %s of %s %s in %.1fs: %s", claimed.run_id, claimed.pipeline, status,
                 sum(phase_seconds.values()), message)
        return status

    def _enter_phase(self, conn, run_id: int, phase: str) -> None:
        with conn.cursor() as cur:
            cur.execute(load_sql(PACKAGE, "enter_phase.sql"), {"phase": phase, "run_id": run_id})
        conn.commit()

    def _finish(self, conn, run_id, status, message, ctx: RunContext, phase_seconds) -> None:
        # PostgreSQL text and jsonb cannot hold NUL: one in a message (a stop id read from
        # a broken file) must not make the run's last write fail and leave it "running"
        message = _without_nul(message)
        for line in ctx.log_lines:
            line["msg"] = _without_nul(line["msg"])
        with conn.cursor() as cur:
            cur.execute(load_sql(PACKAGE, "finish_run.sql"), {
                "status": status, "message": message, "counts": Json(ctx.counts),
                "phase_seconds": Json(phase_seconds), "log": Json(ctx.log_lines),
                "run_id": run_id, "worker": self.worker})
        conn.commit()


def _without_nul(text: str | None) -> str | None:
    return text.replace("\x00", "\\0") if text else text


def _where(exc: BaseException) -> str:
    """The stack of an unexpected error without its message: a library's message may quote
    the input (a database error names the value it refused), and run logs and the
    scheduler's log never carry what a source holds."""
    return "".join(traceback.format_tb(exc.__traceback__)).rstrip()


def _summary(counts: dict[str, int]) -> str:
    return ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in counts.items()) or "done"
