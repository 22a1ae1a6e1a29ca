"""A scheduler job that works in long rounds on a short interval, as the GBFS poller does
(rounds of ROUND_SECONDS, the next one due a second after): in a real APScheduler it runs
one round at a time, the firings during a round pass without the WARNING APScheduler logs
for a refused one (every second of a five-minute round), and the next round starts after
one ends."""

from __future__ import annotations

import logging
import threading

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger

from scheduler.jobs import JOBS, ROUND_JOB_INSTANCES, one_round_at_a_time
from tests.conftest import wait_until


def test_the_gbfs_poller_is_the_job_that_runs_in_rounds():
    assert [spec.id for spec in JOBS if spec.runs_in_rounds] == ["gbfs.poll"]


def test_a_job_in_rounds_runs_one_round_at_a_time_and_fires_quietly_during_one(caplog):
    scheduler = BackgroundScheduler(timezone="UTC", job_defaults={
        "coalesce": True, "max_instances": 1, "misfire_grace_time": 30})
    rounds, release = [], threading.Event()

    def one_round() -> None:
        rounds.append(1)
        release.wait(30)  # a round goes on until the test lets it end
        release.clear()

    guarded, fired = one_round_at_a_time(one_round), []

    def job() -> None:
        fired.append(1)
        guarded()

    scheduler.add_job(job, IntervalTrigger(seconds=0.1), id="rounds",
                      max_instances=ROUND_JOB_INSTANCES)
    caplog.set_level(logging.WARNING, logger="apscheduler.scheduler")

    def refused() -> list[str]:
        return [r.getMessage() for r in caplog.records
                if "maximum number of running instances" in r.getMessage()]

    def firings() -> int:  # run, or refused for a round under way
        return len(fired) + len(refused())

    scheduler.start()
    try:
        wait_until(lambda: rounds, 30, message="the first round")
        # the trigger fires every 0.1 s; during the round each firing passes, none starts a
        # second round
        wait_until(lambda: firings() >= 10, 30, message="firings during the round")
        assert refused() == []
        assert len(rounds) == 1
        for _ in range(3):  # three more rounds, each started once the last one ended
            count = len(rounds)
            release.set()
            wait_until(lambda c=count: len(rounds) > c, 30, message="the next round")
        assert len(rounds) == 4
        assert refused() == []
    finally:
        release.set()
        scheduler.shutdown(wait=True)
