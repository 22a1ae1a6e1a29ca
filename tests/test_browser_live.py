"""The live map in a real Chromium, served as start.sh serves it (scripts/web.sh: nginx,
gunicorn and the stream server): a station changes colour within 2 s of a new status,
without a reload; a sensor shows its latest value; a stale feed is announced."""

from __future__ import annotations

import pytest

from matching_and_import_db.live import events
from tests.browser_helpers import wait_for_js, watch_for_errors
from tests.conftest import wait_until

LON, LAT = 10.78, 59.915  # the map's default centre
STATION = {"feed": "oslobysykkel", "station_id": "2350", "name": "Blindern T-bane",
           "capacity": 12, "num_bikes_available": 5, "num_docks_available": 7,
           "is_renting": True, "is_returning": True, "last_reported": "2025-06-02T10:00:00Z",
           "stale": False, "stale_reason": None}
POINT = {"type": "Point", "coordinates": [LON, LAT]}
DRAWN = ("(window.portalMap.queryRenderedFeatures({layers: ['live-gbfs_stations-bikes']})"
         "[0] || {properties: {}}).properties")


@pytest.fixture
def live_map(module_web, browser, redis):
    events.publish_change(redis, "gbfs_stations", "oslobysykkel:2350", STATION, POINT)
    web = module_web
    page = browser.new_page(viewport={"width": 1000, "height": 700})
    errors = watch_for_errors(page)
    page.goto(f"{web.url}/#c={LON},{LAT}&z=15")
    wait_for_js(page, "document.getElementById('map').dataset.ready === '1'")
    wait_for_js(page, "window.portalLive.connected && window.portalLive.events > 0")
    yield page
    assert errors == []


def test_a_station_changes_colour_within_2_s_of_a_new_status_without_a_reload(live_map, redis):
    page = live_map
    wait_for_js(page, f"{DRAWN}.bikes_colour === '#1a9641'")  # 5 bikes: green
    assert page.evaluate(f"{DRAWN}.docks_colour") == "#1a9641"  # 7 docks: green
    page.evaluate("window.notReloaded = true")
    events.publish_change(redis, "gbfs_stations", "oslobysykkel:2350",
                          {**STATION, "num_bikes_available": 0, "num_docks_available": 2},
                          POINT)
    wait_for_js(page, f"{DRAWN}.bikes_colour === '#d7191c'", timeout=2)  # none: red
    assert page.evaluate(f"{DRAWN}.docks_colour") == "#fd8d3c"  # 2 docks: orange
    assert page.evaluate("window.notReloaded") is True


def test_a_stale_feed_is_announced_and_a_sensor_shows_its_latest_value(live_map, redis):
    page = live_map
    events.publish_change(redis, "gbfs_stations", "oslobysykkel:2350",
                          {**STATION, "stale": True, "stale_reason": "HTTP 500 from the feed"},
                          POINT)
    status = page.locator(".live-status")
    wait_until(lambda: "stale: HTTP 500 from the feed" in status.inner_text(), 10,
               message="the stale warning")
    events.publish_change(redis, "sensors", "A81758FFFE04B1C1", {
        "device": "A81758FFFE04B1C1", "name": "ELSYS_EMS_B1C1_PERRET_SOO", "kind": "sensor",
        "values": {"temperature": {"value": 7.1, "unit": "°C", "at": "2023-01-04T22:01:22Z"}},
        "received_at": "2023-01-04T22:01:22Z"},
        {"type": "Point", "coordinates": [LON + 0.002, LAT]})
    marker = page.locator(".sensor-value")
    wait_until(lambda: marker.count() == 1 and marker.inner_text() == "7.1 °C", 10,
               message="the sensor's latest value on the map")
    marker.click()
    panel = page.locator(".road-panel")
    panel.wait_for(state="visible", timeout=10_000)
    assert "ELSYS_EMS_B1C1_PERRET_SOO" in panel.inner_text()
    assert "7.1 °C" in panel.inner_text()
