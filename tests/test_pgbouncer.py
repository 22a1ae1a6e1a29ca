"""The app and the scheduler work through PgBouncer in transaction pooling mode (no session
state across transactions), as docker-compose.yml runs them."""

from __future__ import annotations

import requests

from matching_and_import_db.pipelines.runner import request_run
from matching_and_import_db.tilecache import tiles_over
from tests.conftest import FIXTURES, wait_until
from tests.osm_helpers import gen_pipeline, run_row
from tests.ride_helpers import load_oslo_roads, ride_along, ride_csv, ride_row, road_by_name, utc


def test_web_and_scheduler_through_pgbouncer_upload_process_and_serve(
        rider, db_conn, pgbouncer, start_web, start_scheduler):
    load_oslo_roads(db_conn)
    _, coords = road_by_name("Jacob Aalls gate")
    through = {"PORTAL_DATABASE_URL": pgbouncer.url}
    web = start_web(**through)
    scheduler = start_scheduler(**through)

    upload = requests.post(web.url + "/api/rides",
                           headers={"Authorization": f"OBSUserId {rider.key}"},
                           data={"public": "1"},
                           files={"body": ("ride.csv", ride_csv(
                               ride_along(coords, utc(2024, 4, 1, 7, 0, 0)), {20: 100}))},
                           timeout=30)
    assert upload.status_code == 201, upload.text
    ride = upload.json()["ride"]["id"]
    wait_until(lambda: ride_row(db_conn, ride)["status"] == "complete", 90, interval=0.5,
               message="the ride to be processed by the scheduler through pgbouncer")
    assert ride_row(db_conn, ride)["events_count"] == 1

    cookie = {"session": rider.client.get_cookie("session").value}
    me = requests.get(web.url + "/api/me", cookies=cookie, timeout=10)
    assert me.status_code == 200 and me.json()["subject"] == rider.sub
    data = requests.get(f"{web.url}/api/rides/{ride}/data", timeout=10)
    assert data.status_code == 200 and data.json()["events"], data.text
    lon, lat = coords[len(coords) // 2]
    x, y, _, _ = tiles_over((lon, lat, lon, lat), 15)
    for path in (f"/tiles/osm/15/{x}/{y}.mvt", f"/tiles/rides/15/{x}/{y}.mvt"):
        tile = requests.get(web.url + path, timeout=10)
        assert tile.status_code == 200 and tile.content, path
    for path in ("/", f"/rides/{ride}", "/api/stops/matches", "/ogc/collections/roads/items",
                 "/readyz"):
        assert requests.get(web.url + path, timeout=10).status_code == 200, path

    # a pipeline run: claim, advisory transaction lock, COPY into staging, publish
    run = request_run(db_conn, gen_pipeline(db_conn, "via-pgbouncer",
                                            str(FIXTURES / "osm" / "boeblingen-minimal.osm.pbf")))
    wait_until(lambda: run_row(db_conn, run)["status"] in ("succeeded", "failed"), 90,
               interval=0.5, message="the pipeline run through pgbouncer")
    assert run_row(db_conn, run)["status"] == "succeeded", run_row(db_conn, run)["message"]

    stats = {row["database"]: row for row in pgbouncer.show("STATS")}
    database = pgbouncer.url.rsplit("/", 1)[1]
    assert stats[database]["total_xact_count"] > 0  # the traffic went through it
    pools = {row["database"]: row for row in pgbouncer.show("POOLS")}
    assert pools[database]["pool_mode"] == "transaction"
    assert "ERROR" not in scheduler.log() and "Traceback" not in web.log()
