"""Fault cases, on the portal as operators run it: the database drops the connections of
the web workers and of the scheduler (pg_terminate_backend, as a failover or an admin
would), and both carry on by themselves.

(Redis stopped is tested in the sessions work; killed workers in test_scheduler.py and
test_rides_processing.py.)"""

from __future__ import annotations

import hashlib
import os
import signal
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import psutil
import pytest
import requests

from matching_and_import_db.rides import rawstore
from tests.conftest import wait_until
from tests.live_helpers import Gunicorn, backends_of, terminate_backends
from tests.ride_helpers import load_oslo_roads, ride_along, ride_csv, ride_row, road_by_name, utc

STREET = "Jacob Aalls gate"
DATABASE_PAGES = ("/api/stops/statistics", "/rides", "/api/statistics", "/api/rides/1")


@pytest.fixture
def web(settings_env, tmp_path):
    server = Gunicorn(settings_env, tmp_path / "gunicorn.log")
    yield server
    server.stop()


def long_ride(laps: int = 60) -> bytes:
    """Up and down the street: thousands of fixes, seconds of snapping."""
    _, coords = road_by_name(STREET)
    points, start = [], utc(2024, 5, 6, 8, 0, 0)
    for lap in range(laps):
        leg = ride_along(coords if lap % 2 == 0 else coords[::-1], start, seed=lap)
        points += leg
        start = leg[-1][0] + timedelta(seconds=1)
    return ride_csv(points, {i: 100 + i % 80 for i in range(25, len(points), 50)})


def test_the_app_answers_the_next_request_after_its_database_connections_are_killed(
        web, db_conn):
    for _ in range(3):  # every worker thread gets a pooled connection or more
        for path in DATABASE_PAGES:
            assert requests.get(web.url + path, timeout=10).status_code in (200, 404), path
    killed = terminate_backends(db_conn, backends_of(db_conn, web.pids()))
    assert killed >= 1

    answers = [(path, requests.get(web.url + path, timeout=10).status_code)
               for _ in range(5) for path in DATABASE_PAGES]
    assert all(status in (200, 404) for _, status in answers), answers
    assert "Traceback" not in web.log(), web.log()[-3000:]


def test_the_scheduler_finishes_a_ride_whose_database_connection_was_killed_mid_work(
        rider, db_conn, start_scheduler):
    load_oslo_roads(db_conn)
    scheduler = start_scheduler(PORTAL_RIDE_LEASE_SECONDS=10)
    ride_id = rider.upload_id(long_ride(), public=True)

    wait_until(lambda: ride_row(db_conn, ride_id)["status"] == "processing", 60, 0.01,
               "the scheduler to claim the ride")
    backends = backends_of(db_conn, [scheduler.pid])
    assert backends, "the scheduler holds no database connection while it processes"
    assert terminate_backends(db_conn, backends) >= 1

    row = wait_until(lambda: (r := ride_row(db_conn, ride_id))["status"] in
                     ("complete", "error") and r, 120, 0.2, "the ride to be finished")
    assert row["status"] == "complete", row["status_message"]
    assert row["events_count"] > 0
    assert scheduler.proc.poll() is None, scheduler.log()[-3000:]
    with db_conn.cursor() as cur:  # written once: no duplicates from the interrupted attempt
        cur.execute("SELECT count(*), count(DISTINCT time), "
                    "(SELECT attempts FROM rides WHERE id = %(id)s) FROM ride_events "
                    "WHERE ride_id = %(id)s", {"id": ride_id})
        total, distinct, attempts = cur.fetchone()
    db_conn.commit()
    assert total == distinct == row["events_count"]
    assert attempts >= 2, "the kill came too late: the first attempt finished"


def test_a_web_worker_killed_mid_upload_loses_nothing_and_the_app_keeps_answering(
        web, rider, db_conn):
    """The existing kill tests cover the scheduler (rides and imports); this one the web
    side: gunicorn starts a new worker, the interrupted upload either exists whole (row and
    raw file) or not at all, and sending it again stores it once."""
    data = long_ride(laps=40)
    headers = {"Authorization": f"OBSUserId {rider.key}"}
    workers = [pid for pid in web.pids() if pid != web.proc.pid]

    def upload():
        return requests.post(f"{web.url}/api/rides", files={"body": ("ride.csv", data)},
                             headers=headers, timeout=30)

    with ThreadPoolExecutor(1) as pool:
        pending = pool.submit(upload)
        wait_until(lambda: any(psutil.Process(p).cpu_percent(0.01) > 0 for p in workers),
                   10, 0, "a worker to take the upload")
        for pid in workers:
            os.kill(pid, signal.SIGKILL)
        try:
            pending.result()
        except requests.RequestException:
            pass  # the connection died with its worker

    def answers():
        try:
            return requests.get(web.url + "/livez", timeout=5).ok
        except requests.RequestException:  # the new workers are still booting
            return False
    wait_until(answers, 60, 0.2, "gunicorn to replace its workers")
    again = upload()
    assert again.status_code in (200, 201), again.text
    with db_conn.cursor() as cur:
        cur.execute("SELECT count(*), min(raw_sha256) FROM rides")
        count, sha = cur.fetchone()
    db_conn.commit()
    assert count == 1
    # the stored raw file is whole (a kill mid-write leaves at most a stray temporary file)
    data_dir = rider.client.application.config["PORTAL"].data_dir
    assert hashlib.sha256(rawstore.read_raw(data_dir, sha)).hexdigest() == sha
