"""Claims of real scheduler processes: a killed worker's ride is taken up again in seconds,
not after its lease; a lease renewed while a ride is worked on keeps it from being stolen
however long the ride takes; and the banner drops a dead worker's run at once."""

from __future__ import annotations

import socket
from contextlib import contextmanager

import psycopg2
import pytest

from matching_and_import_db.pipelines.runner import request_run
from matching_and_import_db.rides import store
from matching_and_import_db.rides.processing import ProcessingConfig, process_pending
from matching_and_import_db.workers import ALIVE_PREFIX, dead_workers, mark_alive
from tests.conftest import OSLO_PBF, wait_until
from tests.osm_helpers import gen_pipeline, run_row
from tests.ride_helpers import load_oslo_roads, ride_along, ride_csv, road_by_name, utc

STREET = "Jacob Aalls gate"


@pytest.fixture
def oslo_roads(db_conn):
    load_oslo_roads(db_conn)


def claim_of(conn, ride_id: int) -> dict:
    with conn.cursor() as cur:
        cur.execute("SELECT status, worker, attempts, lease_until, "
                    "(SELECT count(*) FROM ride_events WHERE ride_id = t.id) "
                    "FROM rides t WHERE id = %s", (ride_id,))
        row = cur.fetchone()
    conn.commit()
    return dict(zip(("status", "worker", "attempts", "lease_until", "events"), row,
                    strict=True))


def db_now(conn):
    with conn.cursor() as cur:
        cur.execute("SELECT now()")
        now = cur.fetchone()[0]
    conn.commit()
    return now


@contextmanager
def roads_locked(settings_env):
    """Hold the roads table: a worker that reaches the road lookup of a ride waits there,
    in the middle of the ride, until the block ends (the way a very long ride would)."""
    conn = psycopg2.connect(settings_env["PORTAL_DATABASE_URL"])
    with conn.cursor() as cur:
        cur.execute("LOCK TABLE osm_roads IN ACCESS EXCLUSIVE MODE")
    try:
        yield
    finally:
        conn.rollback()
        conn.close()


def worker_name(proc) -> str:
    return f"{socket.gethostname()}:{proc.pid}"


def a_ride(rider) -> int:
    _, coords = road_by_name(STREET)
    points = ride_along(coords, utc(2024, 5, 8, 17, 0, 0), seed=3)
    return rider.upload_id(ride_csv(points, {20: 100, 70: 140}), public=True)


def test_a_ride_of_a_killed_worker_is_finished_by_a_new_one_in_seconds_not_a_lease(
        rider, oslo_roads, db_conn, start_scheduler, settings_env):
    ride_id = a_ride(rider)
    lease = 120  # far longer than the wait below: only taking the ride back can pass
    with roads_locked(settings_env):
        victim = start_scheduler(PORTAL_RIDE_LEASE_SECONDS=lease)
        wait_until(lambda: claim_of(db_conn, ride_id)["worker"] == worker_name(victim), 60,
                   message="the first scheduler to be in the middle of the ride")
        victim.kill()  # SIGKILL: no cleanup, no goodbye
    assert claim_of(db_conn, ride_id)["status"] == "processing"

    survivor = start_scheduler(PORTAL_RIDE_LEASE_SECONDS=lease)
    done = wait_until(lambda: (c := claim_of(db_conn, ride_id))["status"] == "complete" and c,
                      lease / 4, interval=0.2,
                      message="the new scheduler to take the dead one's ride back")
    assert done["worker"] == worker_name(survivor)
    assert done["attempts"] == 2 and done["events"] == 2
    assert "whose process is gone" in survivor.log()
    assert survivor.stop() == 0


def test_a_renewed_lease_keeps_a_long_ride_from_being_stolen(
        rider, oslo_roads, db_conn, start_scheduler, settings_env, redis):
    ride_id = a_ride(rider)
    lease = 3  # renewed every second while the ride is worked on
    with roads_locked(settings_env):
        first = start_scheduler(PORTAL_RIDE_LEASE_SECONDS=lease)
        wait_until(lambda: claim_of(db_conn, ride_id)["worker"] == worker_name(first), 60,
                   message="the first scheduler to be in the middle of the ride")
        second = start_scheduler(PORTAL_RIDE_LEASE_SECONDS=lease)
        wait_until(lambda: redis.exists(ALIVE_PREFIX + worker_name(second)), 60,
                   message="the second scheduler to be up")
        # the ride lasts several leases while the second scheduler looks for work
        watched_from = db_now(db_conn)
        wait_until(lambda: (claim_of(db_conn, ride_id)["lease_until"] - watched_from)
                   .total_seconds() > 3 * lease, 60,
                   message="the lease to be renewed past three lease lengths")
        held = claim_of(db_conn, ride_id)
        assert (held["status"], held["worker"], held["attempts"]) == (
            "processing", worker_name(first), 1)
    done = wait_until(lambda: (c := claim_of(db_conn, ride_id))["status"] == "complete" and c,
                      60, message="the first scheduler to finish the ride")
    assert (done["worker"], done["attempts"], done["events"]) == (worker_name(first), 1, 2)
    assert first.stop() == 0 and second.stop() == 0


def test_the_banner_drops_a_dead_workers_run_in_seconds_and_another_worker_fails_it(
        client, db_conn, start_scheduler, redis):
    lease = 120  # the run's lease (and its progress key) would outlive the waits below
    run_id = request_run(db_conn, gen_pipeline(db_conn, "oslo", str(OSLO_PBF)))
    victim = start_scheduler(PORTAL_RUN_LEASE_SECONDS=lease)
    wait_until(lambda: client.get("/api/pipelines/active").get_json()["active"], 60,
               interval=0.01, message="the import to show in the banner")
    victim.kill()
    wait_until(lambda: client.get("/api/pipelines/active").get_json()["active"] == [],
               lease / 6, interval=0.2, message="the banner to drop the dead worker's run")
    assert run_row(db_conn, run_id)["status"] == "running"

    survivor = start_scheduler(PORTAL_RUN_LEASE_SECONDS=lease)
    wait_until(lambda: redis.exists(ALIVE_PREFIX + worker_name(survivor)), 60,
               message="the second scheduler to be up")  # a busy machine starts it slowly
    failed = wait_until(lambda: (r := run_row(db_conn, run_id))["status"] == "failed" and r,
                        lease / 4, interval=0.2, message="the dead worker's run to be failed")
    assert "abandoned" in failed["message"] and "its process is gone" in failed["message"]
    assert survivor.stop() == 0


def test_a_worker_that_lost_its_connection_mid_ride_takes_the_ride_up_when_back(
        rider, oslo_roads, db_conn, settings_env):
    ride_id = a_ride(rider)
    # the connection a worker claimed the ride on is gone (a database restart, a network
    # cut): the ride is left held under its name, with most of its lease still to run
    lost = psycopg2.connect(settings_env["PORTAL_DATABASE_URL"])
    assert store.claim_next_ride(lost, "host:7", lease_seconds=600).ride_id == ride_id
    lost.close()
    config = ProcessingConfig(data_dir=settings_env["PORTAL_DATA_DIR"], lease_seconds=600)
    connect = lambda: psycopg2.connect(settings_env["PORTAL_DATABASE_URL"])  # noqa: E731
    assert process_pending(connect, "host:7", config) == 1
    done = claim_of(db_conn, ride_id)
    assert (done["status"], done["attempts"], done["events"]) == ("complete", 2, 2)


def test_only_a_worker_known_to_beat_whose_liveness_key_expired_is_dead(redis):
    mark_alive(redis, "beating:1")
    mark_alive(redis, "killed:2")
    redis.delete(ALIVE_PREFIX + "killed:2")  # what its expiry leaves, 5 s after the kill
    # in-process work (tests, benchmarks) never beats: only its lease can free its claims
    assert dead_workers(redis, ["beating:1", "killed:2", "in-process:3"]) == {"killed:2"}
    redis.flushdb()  # Redis restarted and lost its keys: nobody is declared dead
    assert dead_workers(redis, ["beating:1", "killed:2"]) == set()
