"""The scheduler's job table: every periodic job, declared once, with a stable id.

Each job runs under a Redis lock named after it, so with several scheduler processes a
job runs in one of them at a time. `run_pipelines` and `process_rides` are the exceptions
by design: runs take a lock per pipeline (in the runner) and rides are claimed row by row
with a lease, so different pipelines and rides are worked on in different processes.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from redis.exceptions import RedisError

from matching_and_import_db import workers
from matching_and_import_db.layers.catalog import catalog
from matching_and_import_db.live.gbfs import poller as gbfs_poller
from matching_and_import_db.live.gbfs import store as gbfs_store
from matching_and_import_db.pipelines import runner
from matching_and_import_db.pipelines.sources import SourcePolicy
from matching_and_import_db.rides import processing, store
from scheduler import metrics

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class JobSpec:
    id: str
    func: Callable[[WorkerContext], object]
    every_seconds: Callable[[WorkerContext], float]
    lock_ttl: int | None  # seconds; None: the job takes finer-grained locks itself
    description: str
    # the job works in long rounds (gbfs.poll: ROUND_SECONDS) and its interval is the gap
    # after one: it runs one round at a time (one_round_at_a_time)
    runs_in_rounds: bool = False


class WorkerContext:
    """What jobs need: settings, Redis, a DB connection factory, the pipeline worker."""

    def __init__(self, settings, redis, connect, worker_name: str, stopping):
        self.settings = settings
        self.redis = redis
        self.connect = connect
        self.worker_name = worker_name
        self.stopping = stopping  # threading.Event, set on SIGTERM
        # what the domain changed → which cached tiles go: the layer catalog decides
        self.tiles = catalog().tile_invalidator(redis)
        self.runs = runner.RunWorker(connect, redis, worker=worker_name,
                                     lease_seconds=settings.run_lease_seconds,
                                     data_dir=settings.data_dir,
                                     sources=source_policy(settings), tiles=self.tiles)
        self.ride_config = processing.ProcessingConfig(
            data_dir=settings.data_dir, lease_seconds=settings.ride_lease_seconds,
            minimum_urban_m=settings.overtake_minimum_urban_m,
            minimum_rural_m=settings.overtake_minimum_rural_m,
            ride_limits=settings.ride_limits,
            tiles=self.tiles,
            dead_workers=lambda names: workers.dead_workers(redis, names))


def source_policy(settings) -> SourcePolicy:
    """Where pipelines may read their sources, from the settings."""
    return SourcePolicy.of(settings.import_dir, settings.source_allowed_hosts,
                           settings.source_max_bytes, overpass_url=settings.overpass_url)


def beat(ctx: WorkerContext) -> None:
    workers.beat(ctx.redis, ctx.worker_name, ttl_seconds=ctx.settings.heartbeat_max_age_seconds)


def enqueue_due_pipelines(ctx: WorkerContext) -> list[int]:
    conn = ctx.connect()
    try:
        return runner.enqueue_due_runs(conn)
    finally:
        conn.close()


def abandon_expired_runs(ctx: WorkerContext) -> list[int]:
    conn = ctx.connect()
    try:
        holders = runner.run_holders(conn) - {ctx.worker_name}
        try:
            dead = sorted(workers.dead_workers(ctx.redis, holders))
        except Exception:  # Redis unreachable: leases alone decide
            log.warning("cannot tell which workers are alive; runs wait for their leases")
            dead = []
        return runner.abandon_expired_runs(conn, ctx.redis, dead)
    finally:
        conn.close()


def take_back_own_claims(ctx: WorkerContext) -> None:
    """At start: rides and runs claimed under this worker's name belong to an earlier life
    of this process (a container restarted keeps its hostname and pid 1), never to work
    in hand: give them up now instead of waiting for their leases."""
    conn = ctx.connect()
    try:
        rides = store.expire_claims(conn, [ctx.worker_name])
        runs = runner.abandon_expired_runs(conn, ctx.redis, [ctx.worker_name])
    finally:
        conn.close()
    if rides or runs:
        log.warning("took back what an earlier %s held: ride(s) %s, run(s) %s",
                    ctx.worker_name, rides, runs)


def run_pipelines(ctx: WorkerContext) -> int:
    return ctx.runs.run_pending(should_stop=ctx.stopping.is_set)


def process_rides(ctx: WorkerContext) -> int:
    return processing.process_pending(ctx.connect, ctx.worker_name, ctx.ride_config,
                                      should_stop=ctx.stopping.is_set)


def gbfs_config(settings) -> gbfs_poller.PollConfig:
    return gbfs_poller.PollConfig(
        sources=source_policy(settings), min_interval=settings.gbfs_min_interval_seconds,
        timeout=settings.gbfs_timeout_seconds, max_bytes=settings.gbfs_max_bytes,
        pollers=settings.gbfs_pollers, db_connections=settings.gbfs_db_connections,
        per_host=settings.gbfs_per_host)


def poll_gbfs(ctx: WorkerContext) -> int:
    return gbfs_poller.poll_due(ctx.connect, ctx.redis, gbfs_config(ctx.settings),
                                should_stop=ctx.stopping.is_set)


def prune_gbfs_history(ctx: WorkerContext) -> int:
    conn = ctx.connect()
    try:
        before = datetime.now(UTC) - timedelta(days=ctx.settings.gbfs_history_days)
        pruned = gbfs_store.prune_history(conn, before)
        conn.commit()
        return pruned
    finally:
        conn.close()


def _tick(ctx: WorkerContext) -> float:
    return ctx.settings.scheduler_tick_seconds


JOBS: tuple[JobSpec, ...] = (
    JobSpec("heartbeat", beat, lambda ctx: max(1.0, ctx.settings.heartbeat_max_age_seconds / 3),
            None, "tell /readyz this process is alive (its own key; no lock needed)"),
    JobSpec("pipelines.enqueue_due", enqueue_due_pipelines, _tick, 60,
            "queue a run for each pipeline whose schedule has a slot due"),
    # a short lock: a worker killed while it holds it (every worker runs this job as it
    # starts, beside its first claim) must not keep the others from failing its runs for a
    # minute; two runs of the job at once are harmless (one UPDATE, idempotent)
    JobSpec("pipelines.abandon_expired", abandon_expired_runs,
            lambda ctx: min(5.0, max(1.0, ctx.settings.run_lease_seconds / 2)), 10,
            "fail runs whose worker died (process gone, or lease expired)"),
    JobSpec("pipelines.run", run_pipelines, lambda ctx: max(1.0, _tick(ctx) / 2), None,
            "claim queued runs and execute them (lock per pipeline, in the runner)"),
    JobSpec("rides.process", process_rides, lambda ctx: max(1.0, _tick(ctx) / 2), None,
            "claim uploaded rides and process them (claims with a lease, no job lock)"),
    JobSpec("gbfs.poll", poll_gbfs, lambda ctx: 1.0, None,
            "fetch the GBFS files that are due (a lock with a lease per feed, in the poller)",
            runs_in_rounds=True),
    JobSpec("gbfs.prune_history", prune_gbfs_history, lambda ctx: 3600.0, 600,
            "drop station history older than PORTAL_GBFS_HISTORY_DAYS"),
)


# a job in rounds may have two instances: the round, and a firing that finds it running
ROUND_JOB_INSTANCES = 2


def one_round_at_a_time(run: Callable[[], None]) -> Callable[[], None]:
    """A job that works in rounds of minutes on an interval of a second (the next round
    must start within a second of the last one's end) is fired every second of a round.
    With one instance allowed, APScheduler refuses each of those firings with a WARNING,
    300 a round; with ROUND_JOB_INSTANCES, each firing during a round returns at once.
    (Pausing the job's trigger during a round instead deadlocks a shutdown: APScheduler
    holds its job stores' lock while it waits for the round to end.)"""
    running = threading.Lock()

    def guarded() -> None:
        if not running.acquire(blocking=False):
            return  # a round is under way; the first firing after it starts the next
        try:
            run()
        finally:
            running.release()
    return guarded


def locked(spec: JobSpec, ctx: WorkerContext) -> Callable[[], None]:
    """The job wrapped in its Redis lock, with a log line of what it did and how long.

    Without Redis a job that needs its lock does not run (fail safe: it cannot know whether
    another process runs it); that is logged once per outage, not at every tick."""
    redis_down = threading.Event()

    def unreachable(exc: Exception) -> None:
        if not redis_down.is_set():
            redis_down.set()
            log.warning("job %s paused: Redis unreachable (%s)", spec.id, exc)

    def run() -> None:
        if ctx.stopping.is_set():
            return
        lock = None
        if spec.lock_ttl is not None:
            lock = ctx.redis.lock(f"lock:job:{spec.id}", timeout=spec.lock_ttl, blocking=False)
            try:
                acquired = lock.acquire()
            except RedisError as exc:
                unreachable(exc)
                return
            if not acquired:
                return  # another scheduler process is on it
        started = time.monotonic()
        outcome = "failed"
        try:
            result = spec.func(ctx)
            outcome = "ok"
        except RedisError as exc:
            outcome = "paused"
            unreachable(exc)
            return
        except Exception:
            log.exception("job %s failed", spec.id)
            return
        finally:
            metrics.job_done(spec.id, outcome, time.monotonic() - started)
            if lock is not None:
                try:
                    lock.release()
                except Exception:  # expired while running: nothing to release
                    pass
        if redis_down.is_set():
            redis_down.clear()
            log.info("job %s resumed: Redis is back", spec.id)
        if result:
            log.info("job %s: %s in %.2fs", spec.id, result, time.monotonic() - started)
    return run
