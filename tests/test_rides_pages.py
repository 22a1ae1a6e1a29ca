"""Ride pages as riders use them: my rides with filters, one ride, public rides,
statistics, settings."""

from __future__ import annotations

import gzip

import pytest

from tests.ride_helpers import load_oslo_roads, ride_along, ride_csv, road_by_name, utc


@pytest.fixture
def two_rides(rider, db_conn, process):
    load_oslo_roads(db_conn)
    _, coords = road_by_name("Jacob Aalls gate")
    early = rider.upload_id(ride_csv(ride_along(coords, utc(2024, 4, 1, 7, 0, 0)), {20: 100}),
                            "early.csv", public=True)
    late = rider.upload_id(ride_csv(ride_along(coords[::-1], utc(2024, 6, 1, 7, 0, 0), seed=5),
                                    {10: 200, 30: 210}), "late.csv", public=False)
    process()
    return early, late


def test_my_rides_lists_status_length_and_events_with_filters_and_sorting(rider, two_rides):
    early, late = two_rides
    page = rider.client.get("/rides/mine").data.decode()
    assert page.index(f"/rides/{late}") < page.index(f"/rides/{early}")  # newest first
    assert "complete" in page and "0.6 km" in page
    oldest_first = rider.client.get("/rides/mine?order=asc").data.decode()
    assert oldest_first.index(f"/rides/{early}") < oldest_first.index(f"/rides/{late}")
    by_events = rider.client.get("/rides/mine?sort=events").data.decode()
    assert by_events.index(f"/rides/{late}") < by_events.index(f"/rides/{early}")
    only_public = rider.client.get("/rides/mine?visibility=public").data.decode()
    assert f"/rides/{early}" in only_public and f"/rides/{late}" not in only_public
    may = rider.client.get("/rides/mine?from=2024-05-01&to=2024-07-01").data.decode()
    assert f"/rides/{late}" in may and f"/rides/{early}" not in may
    assert rider.client.get("/rides/mine?sort=password").status_code == 400


def test_the_ride_page_has_map_chart_and_owner_actions(rider, other_rider, two_rides):
    early, _ = two_rides
    own = rider.client.get(f"/rides/{early}").data.decode()
    for part in ('id="ride-map"', 'id="ride-chart"', "download original", "Make private",
                 "Reprocess", "Delete"):
        assert part in own, part
    theirs = other_rider.client.get(f"/rides/{early}").data.decode()
    assert 'id="ride-map"' in theirs
    for part in ("download original", "Make private", "Reprocess", "Delete"):
        assert part not in theirs, part
    data = other_rider.client.get(f"/api/rides/{early}/data").get_json()
    assert data["raw"] is None and data["series"] is None  # processed data only
    assert data["snapped"]["type"] == "MultiLineString"
    assert len(data["events"]["features"]) == 1
    own_data = rider.client.get(f"/api/rides/{early}/data").get_json()
    assert len(own_data["series"]["t"]) == len(own_data["series"]["left"]) > 100


def test_the_owner_downloads_the_original_file(rider, two_rides):
    early, _ = two_rides
    resp = rider.client.get(f"/rides/{early}/raw")
    assert resp.status_code == 200 and "early.csv" in resp.headers["Content-Disposition"]
    assert resp.data.startswith(b"OBSDataFormat=2")
    assert not resp.data.startswith(gzip.compress(b"")[:2])


def test_public_rides_lists_only_public_processed_rides(client, two_rides):
    early, late = two_rides
    page = client.get("/rides").data.decode()
    assert f"/rides/{early}" in page and f"/rides/{late}" not in page


def test_statistics_page_shows_mine_and_everyones(rider, other_rider, two_rides):
    mine = rider.client.get("/statistics").data.decode()
    assert "My rides" in mine and "Everyone" in mine
    summary = rider.client.get("/api/statistics?mine=1").get_json()
    assert summary["rides"] == 2 and summary["events"] == 3
    assert summary["close_passes"] == 1 and summary["close_share"] == pytest.approx(1 / 3, abs=1e-4)
    everyone = other_rider.client.get("/api/statistics").get_json()
    assert everyone["rides"] == 1 and everyone["events"] == 1


def test_road_panel_api_gives_statistics_per_direction(client, two_rides, db_conn):
    road, _ = road_by_name("Jacob Aalls gate")
    detail = client.get(f"/api/roads/{road.osm_id}").get_json()
    assert detail["road"]["name"] == "Jacob Aalls gate"
    (direction,) = detail["directions"]  # only the public ride counts
    assert direction["passes"] == 1 and direction["events"] == 1
    assert direction["below_share"] == 1.0 and len(direction["histogram"]) == 13
    assert client.get("/api/roads/1").status_code == 404


def test_settings_show_privacy_zones_and_refuse_bad_ones(rider):
    ok = rider.post_form("/settings/zones", {"name": "home", "lat": "59.92", "lon": "10.75",
                                             "radius_m": "150"}, page="/settings")
    assert ok.status_code == 302
    page = rider.client.get("/settings").data.decode()
    assert "home" in page and "150 m" in page
    for form, message in (({"lat": "91", "lon": "10", "radius_m": "100"}, "latitude"),
                          ({"lat": "59", "lon": "10", "radius_m": "5"}, "radius"),
                          ({"lat": "x", "lon": "10", "radius_m": "100"}, "lat must be")):
        resp = rider.post_form("/settings/zones", form, page="/settings")
        assert resp.status_code == 400 and message in resp.data.decode()


def test_pages_for_riders_need_a_login(client):
    for path in ("/rides/mine", "/rides/upload", "/settings"):
        resp = client.get(path)
        assert resp.status_code == 302 and "/login" in resp.headers["Location"]
