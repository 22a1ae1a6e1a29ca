"""Privacy: private rides do not exist for others, nothing recorded inside a privacy zone
leaves the server, and filters over other people's rides are rounded to whole weeks."""

from __future__ import annotations

import math

import gpxpy
import mapbox_vector_tile
import pytest

from tests.osm_helpers import tile_of
from tests.ride_helpers import load_oslo_roads, ride_page_paths, ride_row, street_ride

STREET = "Jacob Aalls gate"


@pytest.fixture
def oslo_roads(db_conn):
    load_oslo_roads(db_conn)


def a_ride(events=None, seed=3, start=None):
    return street_ride(STREET, events, seed, start)




def test_a_private_ride_is_404_for_everyone_else(rider, other_rider, client, oslo_roads,
                                                 process):
    _, _, data = a_ride()
    ride_id = rider.upload_id(data, public=False)
    process()
    for path in ride_page_paths(ride_id):
        assert other_rider.client.get(path).status_code == 404, path
        assert rider.client.get(path).status_code == 200, path
    assert client.get(f"/api/rides/{ride_id}").status_code == 404  # anonymous too
    # and the owner's actions are not there for others either
    assert other_rider.post_form(f"/rides/{ride_id}/delete").status_code == 404
    assert other_rider.post_form(f"/rides/{ride_id}/visibility",
                                 {"public": "1"}).status_code == 404


def test_private_events_are_absent_from_exports_statistics_and_tiles(
        rider, other_rider, oslo_roads, process):
    road, points, private_data = a_ride()
    _, _, public_data = a_ride(events={50: 110}, seed=9)
    rider.upload_id(private_data, public=False)
    other_rider.upload_id(public_data, public=True)
    process()

    for viewer in (other_rider.client, rider.client):
        events = viewer.get("/api/export/events.geojson").get_json()["features"]
        assert [f["properties"]["distance_left"] for f in events] == [1.1]
        csv_text = viewer.get("/api/export/events.csv").data.decode()
        assert csv_text.count("\n") == 2 and "1.1" in csv_text
        assert viewer.get("/api/statistics").get_json()["events"] == 1
        roads = viewer.get("/api/export/roads.geojson").get_json()["features"]
        assert sum(f["properties"]["events"] for f in roads) == 1
    # the owner sees their own private events when asking for their own rides
    mine = rider.client.get("/api/export/events.geojson?mine=1").get_json()["features"]
    assert sorted(f["properties"]["distance_left"] for f in mine) == [1.0, 1.4]
    assert rider.client.get("/api/statistics?mine=1").get_json()["events"] == 2

    z, x, y = tile_of(points[60][1], points[60][2], 15)
    tile = mapbox_vector_tile.decode(rider.client.get(f"/tiles/rides/{z}/{x}/{y}.mvt").data)
    assert [f["properties"]["distance_left"] for f in tile["events"]["features"]] == [1.1]


def test_nothing_inside_a_privacy_zone_leaves_the_server(rider, other_rider, oslo_roads,
                                                         process, db_conn):
    road, points, data = a_ride(events={20: 100, 60: 130, 100: 150})
    zone_lon, zone_lat = points[60][1], points[60][2]
    radius = 60.0
    page = rider.post_form("/settings/zones", {"name": "home", "lat": str(zone_lat),
                                               "lon": str(zone_lon), "radius_m": str(radius)},
                           page="/settings")
    assert page.status_code == 302
    ride_id = rider.upload_id(data, public=True)
    process()
    assert ride_row(db_conn, ride_id)["status"] == "complete"

    def outside(lon, lat):
        kx = 111_320 * math.cos(math.radians(lat))
        return math.hypot((lon - zone_lon) * kx, (lat - zone_lat) * 110_574) > radius

    def all_coords(geometry):
        """Every position of a Point, LineString or MultiLineString."""
        coords = geometry["coordinates"]
        if not isinstance(coords[0], list):
            return [coords]
        while isinstance(coords[0][0], list):
            coords = [c for part in coords for c in part]
        return coords

    owner = rider.client.get(f"/api/rides/{ride_id}/data").get_json()
    other = other_rider.client.get(f"/api/rides/{ride_id}/data").get_json()
    for data_view in (owner, other):
        for key in ("snapped", "raw"):
            if data_view[key]:
                assert all(outside(*c) for c in all_coords(data_view[key])), key
        assert [f["properties"]["distance_left"] for f in data_view["events"]["features"]] \
            == [1.0, 1.5]
    assert all(outside(lon, lat) for lon, lat in zip(owner["series"]["lon"],
                                                    owner["series"]["lat"], strict=True))
    assert len(owner["series"]["t"]) < len(points)
    # the recorded line is cut at the zone, not drawn across it
    assert owner["raw"]["type"] == "MultiLineString" and len(owner["raw"]["coordinates"]) == 2

    gpx = gpxpy.parse(rider.client.get(f"/rides/{ride_id}/export.gpx").data.decode())
    assert all(outside(p.longitude, p.latitude) for p in gpx.walk(only_points=True))
    geojson = rider.client.get(f"/rides/{ride_id}/export.geojson").get_json()
    for feature in geojson["features"]:
        assert all(outside(*c) for c in all_coords(feature["geometry"]))
    exported = rider.client.get("/api/export/events.geojson").get_json()["features"]
    assert len(exported) == 2

    # moving the zone away queues the rides again: the events come back after processing
    zone_id = rider.client.get("/settings").data.decode().split("/settings/zones/")[1]
    zone_id = zone_id.split("/")[0]
    rider.post_form(f"/settings/zones/{zone_id}/delete", page="/settings")
    assert ride_row(db_conn, ride_id)["status"] == "queued"
    process()
    assert ride_row(db_conn, ride_id)["events_count"] == 3


def test_time_filters_over_other_peoples_rides_are_rounded_to_whole_weeks(
        rider, other_rider, oslo_roads, process):
    # Wednesday 2024-05-08: the ride; a filter from Thursday to Friday of that week still
    # covers the whole week, Monday 2024-05-06 to Monday 2024-05-13
    _, _, data = a_ride()
    other_rider.upload_id(data, public=True)
    process()
    summary = rider.client.get("/api/statistics?from=2024-05-09&to=2024-05-10").get_json()
    assert summary["from"].startswith("2024-05-06") and summary["to"].startswith("2024-05-13")
    assert summary["rides"] == 1 and summary["events"] == 2
    events = rider.client.get("/api/export/events.geojson?from=2024-05-09T00:00:00"
                              "&to=2024-05-09T12:00:00").get_json()["features"]
    assert len(events) == 2
    # the next week has nothing
    empty = rider.client.get("/api/statistics?from=2024-05-14&to=2024-05-15").get_json()
    assert empty["rides"] == 0
    # for your own rides the range is exact
    other_rider.client.get("/api/statistics?mine=1&from=2024-05-09&to=2024-05-10")
    mine = other_rider.client.get("/api/statistics?mine=1&from=2024-05-09&to=2024-05-10")
    assert mine.get_json()["rides"] == 0


def test_bad_filters_are_400_with_a_message(client):
    for query, message in (("bbox=1,2,3", "bbox"), ("from=yesterday", "from"),
                           ("from=2024-05-10&to=2024-05-01", "before")):
        resp = client.get(f"/api/export/events.geojson?{query}")
        assert resp.status_code == 400 and message in resp.get_json()["error"]["message"]
    assert client.get("/api/export/events.xlsx").status_code == 400
    assert client.get("/api/statistics?mine=1").status_code == 401
