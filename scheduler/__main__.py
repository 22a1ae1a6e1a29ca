"""The scheduler process: an APScheduler BlockingScheduler alone in its process.

SIGTERM (or SIGINT) stops taking new work, lets the running job finish and exits 0.
A run killed harder than that is given up by another process when its lease expires.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import sys
import threading
import time
from datetime import UTC, datetime

import psycopg2
import redis as redis_lib
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.interval import IntervalTrigger

from matching_and_import_db import workers
from matching_and_import_db.schema import require_current_schema
from matching_and_import_db.settings import Settings, SettingsError
from matching_and_import_db.settings.logging_setup import configure_logging
from scheduler import heartbeat, metrics
from scheduler.connections import budgeted_connect
from scheduler.jobs import (
    JOBS,
    ROUND_JOB_INSTANCES,
    WorkerContext,
    locked,
    one_round_at_a_time,
    take_back_own_claims,
)

log = logging.getLogger("scheduler")


def check_schema(settings: Settings) -> None:
    """Refuse to work on a schema older than the code (one connection, closed at once)."""
    if not settings.check_schema:
        return
    conn = psycopg2.connect(settings.libpq_dsn, connect_timeout=10)
    try:
        require_current_schema(conn)
    finally:
        conn.close()


def build_scheduler(ctx: WorkerContext) -> BlockingScheduler:
    scheduler = BlockingScheduler(timezone="UTC", job_defaults={
        "coalesce": True, "max_instances": 1, "misfire_grace_time": 30})
    for spec in JOBS:
        run, options = locked(spec, ctx), {}
        if spec.runs_in_rounds:
            run, options = one_round_at_a_time(run), {"max_instances": ROUND_JOB_INSTANCES}
        scheduler.add_job(run, IntervalTrigger(seconds=spec.every_seconds(ctx)),
                          id=spec.id, name=spec.description,
                          next_run_time=datetime.now(UTC), **options)  # first run right away
    return scheduler


def _shutdown_once_running(scheduler: BlockingScheduler, wait_s: float = 30.0) -> None:
    """Shut the scheduler down; a stop that came just before start() waits for it."""
    deadline = time.monotonic() + wait_s
    while not scheduler.running:
        if time.monotonic() > deadline:
            return
        time.sleep(0.05)
    scheduler.shutdown(wait=True)


def main() -> int:
    # from the first instruction: a SIGTERM while the process still starts up (importing
    # and checking the schema takes seconds on a busy machine) is a stop, not a kill
    stopping = threading.Event()
    started: list[BlockingScheduler] = []

    def stop(signum, _frame):
        log.info("received %s: finishing the running job, then exiting",
                 signal.Signals(signum).name)
        stopping.set()
        if started:
            # shutdown() from the signal handler would wait inside it; a thread keeps the
            # handler short, and BlockingScheduler.start() returns once shutdown completes
            threading.Thread(target=_shutdown_once_running, args=(started[0],),
                             daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        settings = Settings.from_env()
    except SettingsError as exc:
        print(f"scheduler: {exc}", file=sys.stderr)
        return 2
    configure_logging(settings, role="scheduler")
    try:
        check_schema(settings)
    except Exception as exc:
        print(f"scheduler: {exc}", file=sys.stderr)
        return 1
    if stopping.is_set():
        return 0

    worker_name = f"{socket.gethostname()}:{os.getpid()}"
    redis = redis_lib.Redis.from_url(settings.redis_url, socket_timeout=10)
    ctx = WorkerContext(settings, redis,
                        budgeted_connect(settings.libpq_dsn, settings.scheduler_db_connections),
                        worker_name, stopping)
    scheduler = build_scheduler(ctx)
    started.append(scheduler)
    metrics.serve(settings.scheduler_metrics_port)
    if stopping.is_set():
        return 0
    liveness = heartbeat.LivenessBeat(redis, worker_name)
    liveness.beat()  # before any claim: others must never see our claims as orphaned
    liveness.start()
    take_back_own_claims(ctx)
    workers.beat(redis, worker_name, settings.heartbeat_max_age_seconds)
    log.info("scheduler %s starting with jobs: %s", worker_name,
             ", ".join(spec.id for spec in JOBS))
    scheduler.start()
    liveness.stop()
    workers.clear_heartbeat(redis, worker_name)
    log.info("scheduler %s stopped", worker_name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
