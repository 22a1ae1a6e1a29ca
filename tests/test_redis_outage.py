"""Degraded, not down: with Redis gone, what needs only PostgreSQL keeps answering.

The web process runs as start.sh runs it and the scheduler as its own process, both
against a redis-server of this test's own, which is stopped for 30 s and started again.
"""

from __future__ import annotations

import time

import requests

from matching_and_import_db.pipelines.runner import request_run
from matching_and_import_db.tilecache import tiles_over
from tests.conftest import FIXTURES, wait_until
from tests.osm_helpers import gen_pipeline, run_row
from tests.ride_helpers import load_oslo_roads, ride_along, ride_csv, ride_row, road_by_name, utc

OUTAGE_SECONDS = 30


def test_with_redis_stopped_for_30s_pages_and_apis_answer_and_it_recovers(
        rider, db_conn, process, own_redis, start_web, start_scheduler):
    load_oslo_roads(db_conn)
    _, coords = road_by_name("Jacob Aalls gate")
    ride = rider.upload_id(ride_csv(ride_along(coords, utc(2024, 4, 1, 7, 0, 0)), {20: 100}),
                           "public.csv", public=True)
    process()
    lon, lat = coords[len(coords) // 2]
    x, y, _, _ = tiles_over((lon, lat, lon, lat), 15)
    served = ["/", f"/rides/{ride}", "/api/stops/matches", f"/tiles/rides/15/{x}/{y}.mvt",
              "/api/pipelines/active"]

    web = start_web(PORTAL_REDIS_URL=own_redis.url)
    scheduler = start_scheduler(PORTAL_REDIS_URL=own_redis.url)
    wait_until(lambda: requests.get(web.url + "/readyz", timeout=5).json()["status"] == "ready",
               60, interval=0.5, message="the portal to be ready")
    for path in served:
        assert requests.get(web.url + path, timeout=10).status_code == 200, path

    own_redis.stop()
    # a pipeline run asked for during the outage: its overlap lock lives in Redis, so it waits
    run = request_run(db_conn, gen_pipeline(db_conn, "during-outage",
                                            str(FIXTURES / "osm" / "boeblingen-minimal.osm.pbf")))
    upload = requests.post(web.url + "/api/rides",
                           headers={"Authorization": f"OBSUserId {rider.key}"},
                           files={"body": ("outage.csv", ride_csv(
                               ride_along(coords[::-1], utc(2024, 5, 1, 7, 0, 0), seed=3),
                               {10: 120}))}, timeout=30)
    assert upload.status_code == 201, upload.text  # the upload limit is counted in memory
    uploaded = upload.json()["ride"]["id"]

    failures, polls = [], 0
    ends = time.monotonic() + OUTAGE_SECONDS
    while time.monotonic() < ends:
        for path in served:
            resp = requests.get(web.url + path, timeout=10)
            polls += 1
            if resp.status_code != 200:
                failures.append((path, resp.status_code, resp.text[:200]))
        time.sleep(0.5)  # the pace of polling through the outage, not a wait for work
    assert failures == [], failures
    assert polls >= OUTAGE_SECONDS * len(served)  # it really was polled throughout
    readyz = requests.get(web.url + "/readyz", timeout=10)
    assert readyz.status_code == 200 and readyz.json()["status"] == "degraded"
    assert readyz.json()["checks"]["redis"]["ok"] is False
    assert any("tile cache" in line for line in readyz.json()["degraded"])
    assert run_row(db_conn, run)["status"] == "queued"  # fail safe: no lock, no run
    # rides are claimed in PostgreSQL, not under a Redis lock: processing goes on
    wait_until(lambda: ride_row(db_conn, uploaded)["status"] == "complete", 60,
               interval=0.5, message="the ride uploaded during the outage to be processed")

    own_redis.start()
    wait_until(lambda: requests.get(web.url + "/readyz", timeout=5).json()["status"] == "ready",
               60, interval=0.5, message="the portal to be ready again")
    wait_until(lambda: run_row(db_conn, run)["status"] in ("succeeded", "failed"), 60,
               interval=0.5, message="the waiting pipeline run to run once Redis is back")
    assert run_row(db_conn, run)["status"] == "succeeded", run_row(db_conn, run)["message"]
    for path in served:
        assert requests.get(web.url + path, timeout=10).status_code == 200, path
    assert scheduler.proc.poll() is None  # the scheduler rode it out
    log = scheduler.log()
    assert "paused: Redis unreachable" in log and "resumed: Redis is back" in log
    assert "Redis unreachable" in web.log() and "Redis is back" in web.log()
