"""What is served of a ride follows its current status and its owner's current zones: a
queued, failed or re-zoned ride shows others nothing until it is processed again; private
means private for admins too; and every view of other people's rides, OGC API included,
widens a time filter to whole weeks."""

from __future__ import annotations

import mapbox_vector_tile
import psycopg2
import pytest
from psycopg2 import sql

from matching_and_import_db.layers.catalog import catalog
from matching_and_import_db.rides import store, visibility
from matching_and_import_db.rides.processing import (
    ProcessingConfig,
    process_claimed,
    process_pending,
)
from matching_and_import_db.sqlfiles import sql_file
from tests.osm_helpers import tile_of
from tests.ride_helpers import (
    load_oslo_roads,
    make_rider,
    ride_page_paths,
    ride_row,
    street_ride,
    utc,
)

STREET = "Jacob Aalls gate"


@pytest.fixture
def oslo_roads(db_conn):
    load_oslo_roads(db_conn)


@pytest.fixture
def process(settings_env, redis):
    """The ride queue worked as the scheduler works it, tile invalidation included."""
    config = ProcessingConfig(data_dir=settings_env["PORTAL_DATA_DIR"], lease_seconds=60,
                              tiles=catalog().tile_invalidator(redis))
    return lambda: process_pending(
        lambda: psycopg2.connect(settings_env["PORTAL_DATABASE_URL"]), "test:1", config)


@pytest.fixture
def admin(app, oidc_provider):
    return make_rider(app, oidc_provider, "ada", roles=["admin"])


def a_ride(events=None, seed=3, start=None):
    return street_ride(STREET, events, seed, start)




def what_others_get(client, ride_id: int, road, points) -> dict:
    """Everything a viewer can get of one public ride (on a street no other ride uses)."""
    z, x, y = tile_of(points[60][1], points[60][2], 15)
    tile = mapbox_vector_tile.decode(client.get(f"/tiles/rides/{z}/{x}/{y}.mvt").data)
    return {
        "pages": {path: client.get(path).status_code for path in (
            f"/rides/{ride_id}", f"/api/rides/{ride_id}", f"/api/rides/{ride_id}/data",
            f"/rides/{ride_id}/export.gpx", f"/rides/{ride_id}/export.geojson")},
        "events": len(client.get("/api/export/events.geojson").get_json()["features"]),
        "events_csv": client.get("/api/export/events.csv").data.decode().count("\n"),
        "roads": len(client.get("/api/export/roads.geojson").get_json()["features"]),
        "roads_this_week": len(client.get("/api/export/roads.geojson?from=2024-05-08")
                               .get_json()["features"]),
        "statistics": client.get("/api/statistics").get_json()["events"],
        "road_panel": client.get(f"/api/roads/{road.osm_id}").get_json()["directions"],
        "tile_events": len(tile.get("events", {}).get("features", [])),
        "tile_roads": len(tile.get("road_stats", {}).get("features", [])),
        "ogc_events": client.get("/ogc/collections/events/items?limit=100")
                            .get_json()["numberReturned"],
        "ogc_roads": client.get("/ogc/collections/road_stats/items?limit=100")
                           .get_json()["numberReturned"],
    }


def shows_nothing(seen: dict) -> bool:
    return (set(seen["pages"].values()) == {404} and seen["events"] == 0
            and seen["events_csv"] == 0 and seen["roads"] == 0 and seen["roads_this_week"] == 0
            and seen["statistics"] == 0 and seen["road_panel"] == [] and seen["tile_events"] == 0
            and seen["tile_roads"] == 0 and seen["ogc_events"] == 0 and seen["ogc_roads"] == 0)


def shows_the_ride(seen: dict) -> bool:
    return (set(seen["pages"].values()) == {200} and seen["events"] == 2
            and seen["statistics"] == 2 and seen["road_panel"] != [] and seen["tile_events"] > 0
            and seen["tile_roads"] > 0 and seen["ogc_events"] == 2 and seen["roads"] > 0)


def add_zone(rider, lon: float, lat: float, radius_m: float):
    resp = rider.post_form("/settings/zones", {"name": "home", "lon": str(lon), "lat": str(lat),
                                               "radius_m": str(radius_m)}, page="/settings")
    assert resp.status_code == 302


def geometry_of(conn, ride_id: int) -> tuple:
    with conn.cursor() as cur:
        cur.execute("SELECT geom IS NOT NULL, geom_raw IS NOT NULL, series IS NOT NULL, "
                    "(SELECT count(*) FROM ride_events WHERE ride_id = %s), "
                    "(SELECT count(*) FROM road_usage WHERE ride_id = %s) "
                    "FROM rides WHERE id = %s", (ride_id, ride_id, ride_id))
        row = cur.fetchone()
    conn.commit()
    return row


def test_a_zone_drawn_over_a_public_ride_hides_it_at_once_and_its_error_keeps_nothing(
        rider, other_rider, client, oslo_roads, process, db_conn):
    road, points, data = a_ride()
    ride_id = rider.upload_id(data, public=True)
    process()
    viewers = {"anonymous": client, "other user": other_rider.client}
    for name, viewer in viewers.items():
        assert shows_the_ride(what_others_get(viewer, ride_id, road, points)), name

    # a zone far away changes nothing: the ride stays published
    add_zone(rider, 10.60, 59.80, 200)
    assert ride_row(db_conn, ride_id)["status"] == "complete"

    # the whole ride inside a new zone: hidden with the zone's commit, before any processing
    add_zone(rider, points[len(points) // 2][1], points[len(points) // 2][2], 2000)
    assert ride_row(db_conn, ride_id)["status"] == "queued"
    for name, viewer in viewers.items():
        assert shows_nothing(what_others_get(viewer, ride_id, road, points)), name

    # processing ends in error, and the earlier line, chart, events and passes are gone
    process()
    row = ride_row(db_conn, ride_id)
    assert row["status"] == "error" and "inside your privacy zones" in row["status_message"]
    assert geometry_of(db_conn, ride_id) == (False, False, False, 0, 0)
    for name, viewer in viewers.items():
        assert shows_nothing(what_others_get(viewer, ride_id, road, points)), name
    # the owner still has the ride, with the error and nothing drawn
    owner_view = rider.client.get(f"/api/rides/{ride_id}/data").get_json()
    assert owner_view["snapped"] is None and owner_view["raw"] is None
    assert owner_view["events"]["features"] == []
    assert "inside your privacy zones" in rider.client.get(f"/rides/{ride_id}").data.decode()

    # removing that zone queues the failed ride again; processed, it is back for everyone
    page = rider.client.get("/settings").data.decode()
    zone_ids = sorted(int(part.split("/")[0]) for part in page.split("/settings/zones/")[1:])
    rider.post_form(f"/settings/zones/{zone_ids[-1]}/delete", page="/settings")
    assert ride_row(db_conn, ride_id)["status"] == "queued"
    process()
    assert ride_row(db_conn, ride_id)["status"] == "complete"
    for name, viewer in viewers.items():
        assert shows_the_ride(what_others_get(viewer, ride_id, road, points)), name


def test_a_queued_ride_shows_others_nothing_until_processed_again(
        rider, other_rider, client, oslo_roads, process, db_conn):
    road, points, data = a_ride()
    ride_id = rider.upload_id(data, public=True)
    for viewer in (client, other_rider.client):  # before its first processing
        assert shows_nothing(what_others_get(viewer, ride_id, road, points))
    process()
    assert shows_the_ride(what_others_get(client, ride_id, road, points))

    assert rider.post_form(f"/rides/{ride_id}/reprocess",
                           page=f"/rides/{ride_id}").status_code == 302
    assert ride_row(db_conn, ride_id)["status"] == "queued"
    for viewer in (client, other_rider.client):
        assert shows_nothing(what_others_get(viewer, ride_id, road, points))
    # its owner keeps seeing their own ride meanwhile
    assert rider.client.get(f"/api/rides/{ride_id}/data").status_code == 200
    process()
    for viewer in (client, other_rider.client):
        assert shows_the_ride(what_others_get(viewer, ride_id, road, points))


def test_a_zone_added_while_a_worker_processes_the_ride_keeps_that_result_unpublished(
        rider, client, oslo_roads, process, db_conn, settings_env):
    road, points, data = a_ride()
    ride_id = rider.upload_id(data, public=True)
    worker = psycopg2.connect(settings_env["PORTAL_DATABASE_URL"])
    claim = store.claim_next_ride(worker, "slow-worker:1", lease_seconds=60)
    assert claim.ride_id == ride_id
    # the worker has read the zones (none yet) when the rider draws one over the ride
    add_zone(rider, points[len(points) // 2][1], points[len(points) // 2][2], 2000)
    config = ProcessingConfig(data_dir=settings_env["PORTAL_DATA_DIR"], lease_seconds=60)
    assert process_claimed(worker, claim, "slow-worker:1", config) == "lost"
    worker.close()
    assert shows_nothing(what_others_get(client, ride_id, road, points))
    process()
    assert ride_row(db_conn, ride_id)["status"] == "error"
    assert shows_nothing(what_others_get(client, ride_id, road, points))


def test_road_statistics_count_exactly_the_published_rides():
    recompute = sql_file(store.PACKAGE, "recompute_road_stats.sql")
    assert recompute.count("WHERE " + visibility.PUBLISHED.string) == 2


def test_private_means_private_for_admins_who_may_still_reprocess_and_delete(
        rider, admin, oslo_roads, process, db_conn, app):
    _, _, data = a_ride()
    ride_id = rider.upload_id(data, public=False)
    process()
    for path in ride_page_paths(ride_id):
        assert admin.client.get(path).status_code == 404, path
        assert rider.client.get(path).status_code == 200, path
    assert admin.client.get("/api/export/events.geojson").get_json()["features"] == []
    # the admin's actions still reach it
    assert admin.post_form(f"/rides/{ride_id}/reprocess", page="/").status_code == 302
    assert ride_row(db_conn, ride_id)["status"] == "queued"
    assert admin.post_form(f"/rides/{ride_id}/delete", page="/").status_code == 302
    assert ride_row(db_conn, ride_id) is None
    # and the command line deletes any user's rides
    second = rider.upload_id(a_ride(seed=5)[2], public=False)
    result = app.test_cli_runner().invoke(args=["rides", "delete", str(second)])
    assert "deleted 1 ride(s)" in result.output, result.output
    assert ride_row(db_conn, second) is None


def test_ogc_datetime_over_other_peoples_events_is_widened_to_whole_weeks(
        rider, other_rider, client, oslo_roads, process):
    # Wednesday 2024-05-08 17:00 and Friday 2024-05-10 of the same week, and the next week
    for start, seed in ((utc(2024, 5, 8, 17, 0, 0), 3), (utc(2024, 5, 10, 9, 0, 0), 4),
                        (utc(2024, 5, 14, 9, 0, 0), 5)):
        other_rider.upload_id(a_ride(seed=seed, start=start)[2], public=True)
    process()
    window = "datetime=2024-05-08T17:00:00Z/2024-05-08T17:20:00Z"
    export = "from=2024-05-08T17:00:00&to=2024-05-08T17:20:00"
    for viewer in (client, rider.client):
        ogc = viewer.get(f"/ogc/collections/events/items?limit=100&{window}").get_json()
        exported = viewer.get(f"/api/export/events.geojson?{export}").get_json()
        assert ogc["numberReturned"] == 4  # both rides of that week, not the next week's
        assert sorted(f["properties"]["time"] for f in ogc["features"]) == sorted(
            f["properties"]["time"].replace("+00:00", "Z") for f in exported["features"])
        # one instant, and an open end, are whole weeks too
        one = viewer.get("/ogc/collections/events/items?datetime=2024-05-10T09:00:20Z")
        assert one.get_json()["numberReturned"] == 4
        tail = viewer.get("/ogc/collections/events/items?datetime=2024-05-13T00:00:00Z/..")
        assert tail.get_json()["numberReturned"] == 2
        # a Monday 00:00 end still takes in the week it starts
        monday = viewer.get("/ogc/collections/events/items?datetime=../2024-05-13T00:00:00Z")
        assert monday.get_json()["numberReturned"] == 6
    # over their own rides the owner's window is exact
    mine = other_rider.client.get(f"/ogc/collections/events/items?mine=1&{window}").get_json()
    assert mine["numberReturned"] == 2
    exact = other_rider.client.get("/ogc/collections/events/items?mine=1"
                                   "&datetime=2024-05-08T17:00:00Z/2024-05-08T17:00:30Z")
    assert exact.get_json()["numberReturned"] == 1


@pytest.mark.parametrize("status", ["queued", "processing", "complete", "error"])
@pytest.mark.parametrize("public", [True, False])
def test_the_sql_visibility_function_is_the_python_rule(db_conn, status, public):
    owner = 7
    with db_conn.cursor() as cur:
        cur.execute("SELECT ride_shown_to(%(s)s, %(p)s, %(o)s, NULL),"
                    " ride_shown_to(%(s)s, %(p)s, %(o)s, %(o)s),"
                    " ride_shown_to(%(s)s, %(p)s, %(o)s, %(other)s)",
                    {"s": status, "p": public, "o": owner, "other": owner + 1})
        to_everyone, to_owner, to_another = cur.fetchone()
    db_conn.rollback()
    assert to_everyone is to_another is visibility.shown_to_others(status, public)
    assert to_owner is (status == "complete")


def test_the_visibility_function_is_inlined_so_ride_queries_keep_their_plans(db_conn):
    with db_conn.cursor() as cur:
        cur.execute(sql.SQL("EXPLAIN (VERBOSE, COSTS OFF) SELECT t.id FROM rides t WHERE {}")
                    .format(visibility.OWN), {"viewer_id": 3})
        plan = "\n".join(row[0] for row in cur.fetchall())
    db_conn.rollback()
    assert "ride_shown_to" not in plan
    assert "'complete'" in plan and "user_id = 3" in plan
