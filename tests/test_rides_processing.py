"""Processing rides: snapping to the streets, overtaking events, passes per direction, road
statistics kept up to date, and a queue that loses nothing when a worker dies."""

from __future__ import annotations

import psycopg2
import pytest

from matching_and_import_db.rides import changes, store
from matching_and_import_db.rides.legal import legal_minimum
from tests.conftest import OSLO_PBF, wait_until
from tests.ride_helpers import events_of as ride_events
from tests.ride_helpers import load_oslo_roads, ride_along, ride_csv, ride_row, road_by_name, utc

STREET = "Jacob Aalls gate"  # 700 m, two-way, maxspeed 30: in town, minimum 1.5 m


@pytest.fixture
def oslo_roads(db_conn):
    load_oslo_roads(db_conn)


def there_and_back(events_there=None, events_back=None, seed=1):
    """One ride along the street and back (the return leg starts a minute later)."""
    road, coords = road_by_name(STREET)
    there = ride_along(coords, utc(2024, 5, 6, 8, 0, 0), seed=seed)
    back = ride_along(coords[::-1], there[-1][0].replace(minute=there[-1][0].minute + 1),
                      seed=seed + 1)
    events = dict(events_there or {})
    events.update({len(there) + i: cm for i, cm in (events_back or {}).items()})
    return road, ride_csv(there + back, events), len(there), len(back)


def stats(db_conn, way_id: int) -> dict[int, dict]:
    with db_conn.cursor() as cur:
        cur.execute("SELECT direction, passes, events, distance_mean, distance_median, "
                    "distance_min, distance_max, below_minimum, legal_minimum, histogram "
                    "FROM road_stats WHERE way_id = %s", (way_id,))
        cols = [d[0] for d in cur.description]
        rows = {r[0]: dict(zip(cols, r, strict=True)) for r in cur.fetchall()}
    db_conn.commit()
    return rows


def events_of(db_conn, ride_id: int) -> list[tuple]:
    """(way_id, direction, distance_left) of each event, in time order."""
    return [(e["way_id"], e["direction"], e["distance_left"])
            for e in ride_events(db_conn, ride_id)]


def test_a_ride_along_a_street_and_back_gives_events_and_a_pass_per_direction(
        rider, oslo_roads, process, db_conn):
    road, data, n_there, _ = there_and_back({30: 120, 60: 180}, {40: 90})
    ride_id = rider.upload_id(data, public=True)
    assert process() == 1
    row = ride_row(db_conn, ride_id)
    assert row["status"] == "complete", row["status_message"]
    assert row["points_matched"] >= 0.95 * (n_there * 2)

    events = events_of(db_conn, ride_id)
    assert [(w, left) for w, _, left in events] == [(road.osm_id, 1.2), (road.osm_id, 1.8),
                                                     (road.osm_id, 0.9)]
    there_dir, back_dir = events[0][1], events[2][1]
    assert events[1][1] == there_dir and {there_dir, back_dir} == {1, -1}

    by_dir = stats(db_conn, road.osm_id)
    assert by_dir[there_dir]["passes"] == 1 and by_dir[back_dir]["passes"] == 1
    assert by_dir[there_dir]["events"] == 2
    assert by_dir[there_dir]["distance_median"] == pytest.approx(1.5)
    assert by_dir[there_dir]["distance_min"] == pytest.approx(1.2)
    assert by_dir[there_dir]["below_minimum"] == 1  # 1.2 m < 1.5 m; 1.8 m is not
    assert by_dir[back_dir]["events"] == 1 and by_dir[back_dir]["below_minimum"] == 1
    assert by_dir[back_dir]["legal_minimum"] == 1.5
    # 25 cm buckets: 0.9 m in 0.75-1.0, 1.2 m in 1.0-1.25, 1.8 m in 1.75-2.0
    assert by_dir[there_dir]["histogram"][4] == 1 and by_dir[there_dir]["histogram"][7] == 1
    assert by_dir[back_dir]["histogram"][3] == 1


def test_processing_again_writes_no_duplicates_and_counts_once(rider, oslo_roads, process,
                                                               db_conn):
    road, data, _, _ = there_and_back({30: 120}, {40: 90})
    ride_id = rider.upload_id(data, public=True)
    process()
    first = (events_of(db_conn, ride_id), stats(db_conn, road.osm_id))
    assert rider.post_form(f"/rides/{ride_id}/reprocess").status_code == 302
    assert ride_row(db_conn, ride_id)["status"] == "queued"
    process()
    assert (events_of(db_conn, ride_id), stats(db_conn, road.osm_id)) == first


def test_statistics_count_public_rides_and_follow_visibility_and_deletion(
        rider, other_rider, oslo_roads, process, db_conn):
    road, data, _, _ = there_and_back({30: 120}, {40: 90})
    _, data2, _, _ = there_and_back({20: 100}, {}, seed=7)
    private_id = rider.upload_id(data, public=False)
    public_id = other_rider.upload_id(data2, public=True)
    process()
    assert sum(s["passes"] for s in stats(db_conn, road.osm_id).values()) == 2  # public only
    assert sum(s["events"] for s in stats(db_conn, road.osm_id).values()) == 1

    rider.post_form(f"/rides/{private_id}/visibility", {"public": "1"})
    assert sum(s["passes"] for s in stats(db_conn, road.osm_id).values()) == 4
    assert sum(s["events"] for s in stats(db_conn, road.osm_id).values()) == 3

    other_rider.post_form(f"/rides/{public_id}/delete")
    assert ride_row(db_conn, public_id) is None
    assert sum(s["passes"] for s in stats(db_conn, road.osm_id).values()) == 2
    assert sum(s["events"] for s in stats(db_conn, road.osm_id).values()) == 2

    rider.post_form("/rides/delete-all", {"confirm": "delete"})
    assert stats(db_conn, road.osm_id) == {}


def test_a_ride_left_by_a_dead_worker_is_finished_by_another_with_no_duplicates(
        rider, oslo_roads, db_conn, start_scheduler, settings_env):
    road, data, _, _ = there_and_back({30: 120}, {40: 90})
    ride_id = rider.upload_id(data, public=True)
    # a worker claims the ride and dies before writing anything (SIGKILL leaves exactly this)
    conn = psycopg2.connect(settings_env["PORTAL_DATABASE_URL"])
    claim = store.claim_next_ride(conn, "dead-worker:1", lease_seconds=2)
    conn.close()
    assert claim.ride_id == ride_id
    assert ride_row(db_conn, ride_id)["status"] == "processing"

    survivor = start_scheduler()
    wait_until(lambda: ride_row(db_conn, ride_id)["status"] == "complete", 60,
               message="another scheduler to take the ride over once the lease ran out")
    assert len(events_of(db_conn, ride_id)) == 2
    assert sum(s["passes"] for s in stats(db_conn, road.osm_id).values()) == 2
    # the dead worker, were it to come back, may no longer write
    late = psycopg2.connect(settings_env["PORTAL_DATABASE_URL"])
    with late.cursor() as cur:
        assert not store.hold_claim(cur, ride_id, "dead-worker:1")
    late.close()
    assert survivor.stop() == 0


def test_two_schedulers_process_every_ride_exactly_once(rider, oslo_roads, db_conn,
                                                        start_scheduler):
    ids = [rider.upload_id(there_and_back({30: 120}, seed=s)[1]) for s in range(1, 7)]
    a, b = start_scheduler(), start_scheduler()
    wait_until(lambda: all(ride_row(db_conn, i)["status"] == "complete" for i in ids), 90,
               message="two schedulers to process six rides")
    with db_conn.cursor() as cur:
        cur.execute("SELECT ride_id, count(*) FROM ride_events GROUP BY ride_id")
        assert dict(cur.fetchall()) == {i: 1 for i in ids}
        cur.execute("SELECT attempts FROM rides")
        assert {r[0] for r in cur.fetchall()} == {1}
    assert a.stop() == 0 and b.stop() == 0


def test_a_ride_with_no_usable_positions_ends_in_error_with_a_message(rider, process, db_conn):
    # two fixes 50 km apart one second apart: the second is a GPS jump, one point is left
    data = ride_csv([(utc(2024, 5, 6, 8, 0, 0), 10.75, 59.91),
                     (utc(2024, 5, 6, 8, 0, 1), 11.50, 59.91)])
    ride_id = rider.upload_id(data)
    process()
    row = ride_row(db_conn, ride_id)
    assert row["status"] == "error"
    assert "no valid GPS fix" in row["status_message"]
    page = rider.client.get(f"/rides/{ride_id}").data.decode()
    assert "no valid GPS fix" in page


def test_a_ride_off_the_mapped_streets_keeps_its_events_unsnapped(rider, process, db_conn):
    # no roads loaded at all: the ride is still processed, its events keep their positions
    road, data, _, _ = there_and_back({30: 120})
    ride_id = rider.upload_id(data)
    process()
    assert ride_row(db_conn, ride_id)["status"] == "complete"
    assert events_of(db_conn, ride_id) == [(None, 0, 1.2)]


@pytest.mark.parametrize("zone_traffic, maxspeed, expected", [
    (None, None, 1.5), (None, "30", 1.5), (None, "50", 1.5), (None, "70", 2.0),
    (None, "40 mph", 2.0), ("DE:urban", "70", 1.5), ("DE:rural", None, 2.0),
    (None, "DE:rural", 2.0), (None, "DE:urban", 1.5), (None, "none", 1.5),
])
def test_legal_minimum_follows_zone_traffic_then_maxspeed(zone_traffic, maxspeed, expected):
    assert legal_minimum(zone_traffic, maxspeed, 1.5, 2.0) == expected


def test_bulk_reprocess_from_the_command_line(rider, process, db_conn, app):
    ride_id = rider.upload_id(there_and_back({30: 120})[1])
    process()
    result = app.test_cli_runner().invoke(
        args=["rides", "reprocess", "--user", "rita@example.org"])
    assert "queued 1 ride(s)" in result.output, result.output
    assert ride_row(db_conn, ride_id)["status"] == "queued"
    result = app.test_cli_runner().invoke(args=["rides", "reprocess", "--all"])
    assert "queued 1 ride(s)" in result.output


def test_a_fix_snapped_onto_a_crossing_street_at_a_junction_does_not_split_a_pass():
    from matching_and_import_db.rides.mapmatch import Pass
    from matching_and_import_db.rides.ride import ridden_passes
    blip = [Pass(1, 1, 0, 53, 258.0), Pass(2, -1, 54, 54, 0.0), Pass(1, 1, 55, 131, 376.0)]
    assert ridden_passes(blip) == [Pass(1, 1, 0, 131, 634.0)]
    # a real excursion onto the other street and back is two passes of the first one
    detour = [Pass(1, 1, 0, 53, 258.0), Pass(2, -1, 54, 70, 80.0), Pass(1, 1, 71, 131, 300.0)]
    assert ridden_passes(detour) == detour


def test_killing_a_scheduler_while_it_processes_loses_nothing(rider, oslo_roads, db_conn,
                                                              start_scheduler):
    ids = [rider.upload_id(there_and_back({30: 120}, {40: 90}, seed=s)[1], public=True)
           for s in range(1, 13)]
    victim = start_scheduler(PORTAL_RIDE_LEASE_SECONDS=10)

    def busy():
        with db_conn.cursor() as cur:
            cur.execute("SELECT count(*) FROM rides WHERE status = 'processing'")
            n = cur.fetchone()[0]
        db_conn.commit()
        return n > 0

    wait_until(busy, 60, interval=0.002, message="the scheduler to be in the middle of a ride")
    victim.kill()  # SIGKILL: no cleanup, no goodbye
    with db_conn.cursor() as cur:
        cur.execute("SELECT count(*), count(*) FILTER (WHERE status = 'processing') "
                    "FROM rides WHERE status <> 'complete'")
        unfinished, held = cur.fetchone()
    db_conn.commit()
    # the ride it held stays claimed until its lease ends (unless the kill fell in the
    # millisecond between one ride's commit and the next claim)
    assert unfinished > 0 and held <= 1

    survivor = start_scheduler(PORTAL_RIDE_LEASE_SECONDS=10)
    wait_until(lambda: all(ride_row(db_conn, i)["status"] == "complete" for i in ids), 90,
               message="the survivor to finish every ride, the abandoned one included")
    with db_conn.cursor() as cur:
        cur.execute("SELECT ride_id, count(*) FROM ride_events GROUP BY ride_id")
        assert dict(cur.fetchall()) == {i: 2 for i in ids}
        cur.execute("SELECT sum(events), sum(passes) FROM road_stats")
        events, passes = cur.fetchone()
        cur.execute("SELECT count(*) FROM road_usage")
        usage = cur.fetchone()[0]
    assert events == 24 and passes == usage  # every event and pass counted exactly once
    assert survivor.stop() == 0


def test_demo_rides_are_imported_once_for_their_rider_from_the_command_line(app, db_conn):
    from tests.conftest import ROOT
    files = sorted(str(p) for p in (ROOT / "demo" / "rides").glob("*.obsdata.csv.gz"))
    assert len(files) == 3
    first = app.test_cli_runner().invoke(args=["rides", "import", "--subject", "cyclist",
                                               *files])
    assert first.output.count("queued as ride") == 3, first.output
    again = app.test_cli_runner().invoke(args=["rides", "import", "--subject", "cyclist",
                                               *files])
    assert again.output.count("already there as ride") == 3, again.output
    with db_conn.cursor() as cur:
        cur.execute("SELECT u.subject, count(*), bool_and(t.public) FROM rides t "
                    "JOIN users u ON u.id = t.user_id GROUP BY u.subject")
        assert cur.fetchall() == [("cyclist", 3, True)]
    waited = app.test_cli_runner().invoke(args=["rides", "import", "--subject", "cyclist",
                                                "--wait-for-roads", "1", files[0]])
    assert waited.exit_code != 0 and "no roads after 1s" in waited.output


def test_a_ride_entirely_inside_a_privacy_zone_ends_in_error_with_a_message():
    from matching_and_import_db.errors import InputError
    from matching_and_import_db.rides.cleaning import PrivacyZone
    from matching_and_import_db.rides.parse import parse_ride_file
    from matching_and_import_db.rides.ride import prepare_ride
    _, coords = road_by_name(STREET)
    points = parse_ride_file(ride_csv(ride_along(coords, utc(2024, 5, 6, 8, 0, 0)))).points
    home = PrivacyZone(coords[0][0], coords[0][1], 5000.0)
    with pytest.raises(InputError, match="inside your privacy zones"):
        prepare_ride(points, [home])


def test_every_fix_snap_is_stored_and_exported_with_the_ride(rider, other_rider, oslo_roads,
                                                             process, db_conn):
    import csv
    import io
    road, data, n_there, n_back = there_and_back({30: 120})
    ride_id = rider.upload_id(data, public=True)
    assert process() == 1
    kept = n_there + n_back  # every fix of the synthetic ride is valid and kept

    lines = list(csv.DictReader(io.StringIO(
        rider.client.get(f"/rides/{ride_id}/export.csv").data.decode())))
    assert len(lines) == kept
    assert {"index", "way_id", "direction", "offset_m", "distance_m", "lon", "lat", "time",
            "recorded_lon", "recorded_lat"} <= set(lines[0])
    on_road = [r for r in lines if r["way_id"] == str(road.osm_id)]
    assert len(on_road) >= 0.95 * kept
    # there: one direction with the offset growing; back: the other, the offset shrinking
    there = [r for r in on_road if int(r["index"]) < n_there]
    back = [r for r in on_road if int(r["index"]) >= n_there]
    there_dir = int(there[len(there) // 2]["direction"])
    assert {int(back[len(back) // 2]["direction"])} == {-there_dir}
    offsets = [float(r["offset_m"]) for r in there]
    assert (offsets[-1] - offsets[0]) * there_dir > 500
    assert all(float(r["distance_m"]) < 40 for r in on_road)

    geojson = other_rider.client.get(f"/rides/{ride_id}/export.geojson").get_json()
    fixes = [f for f in geojson["features"] if f["properties"].get("kind") == "fix"]
    assert len(fixes) == kept
    # others see where each fix was snapped, never when it was recorded or where exactly
    assert "time" not in fixes[0]["properties"]
    assert "recorded_lon" not in fixes[0]["properties"]
    assert fixes[0]["properties"]["way_id"] == road.osm_id
    with db_conn.cursor() as cur:  # processing again replaces the snaps, it adds none
        changes.requeue_rides(cur, [ride_id])
    db_conn.commit()
    assert process() == 1
    with db_conn.cursor() as cur:
        cur.execute("SELECT count(*), min(cardinality(way_id)) FROM ride_snaps "
                    "WHERE ride_id = %s", (ride_id,))
        assert cur.fetchone() == (1, kept)


def test_no_overtaking_event_and_no_road_statistic_off_the_roads_on_the_demo_rides(
        rider, settings_env, process, db_conn):
    """The demo rides over the whole demo extract, sidewalks, footways and cycle tracks
    included: events and statistics only land where motor vehicles pass."""
    from matching_and_import_db.rides.roadclass import MOTOR_TRAFFIC_HIGHWAYS
    from tests.conftest import ROOT
    from tests.osm_helpers import gen_pipeline, run_inline
    run = run_inline(settings_env, gen_pipeline(db_conn, "demo", str(OSLO_PBF)))
    assert run["status"] == "succeeded", run["message"]
    for path in sorted((ROOT / "demo" / "rides").glob("*.obsdata.csv.gz")):
        rider.upload_id(path.read_bytes(), filename=path.name, public=True)
    assert process() == 3
    with db_conn.cursor() as cur:
        cur.execute("SELECT count(*), count(e.way_id), "
                    "count(*) FILTER (WHERE r.highway <> ALL(%(motor)s) "
                    "OR r.access->>'footway' = 'sidewalk') "
                    "FROM ride_events e LEFT JOIN osm_roads r ON r.osm_id = e.way_id",
                    {"motor": sorted(MOTOR_TRAFFIC_HIGHWAYS)})
        events, snapped, off_road = cur.fetchone()
        cur.execute("SELECT count(*), count(*) FILTER (WHERE r.highway <> ALL(%(motor)s) "
                    "OR r.access->>'footway' = 'sidewalk') "
                    "FROM road_stats s JOIN osm_roads r ON r.osm_id = s.way_id",
                    {"motor": sorted(MOTOR_TRAFFIC_HIGHWAYS)})
        stats_rows, off_road_stats = cur.fetchone()
        cur.execute("SELECT count(*) FROM ride_snaps s, unnest(s.way_id) w "
                    "JOIN osm_roads r ON r.osm_id = w WHERE r.highway IN ('footway', 'path')")
        fixes_on_footways = cur.fetchone()[0]
        cur.execute("SELECT status, status_message FROM rides ORDER BY id")
        statuses = cur.fetchall()
    db_conn.commit()
    assert [s for s, _ in statuses] == ["complete"] * 3
    assert events > 40 and snapped >= 0.9 * events and stats_rows > 50
    assert off_road == 0 and off_road_stats == 0
    print(f"demo rides: {events} events, {stats_rows} road statistics, "
          f"{fixes_on_footways} fixes snapped to footways or paths; {statuses}")
