"""The map in a real Chromium (Debian's, driven by Playwright): it loads every catalog
layer, layers toggle from the panel, clicking a road opens its statistics, and the URL
brings the same view back."""

from __future__ import annotations

import pytest

from tests.browser_helpers import wait_for_js, watch_for_errors
from tests.conftest import wait_until
from tests.ride_helpers import load_oslo_roads, ride_along, ride_csv, road_by_name, utc

STREET = "Jacob Aalls gate"
@pytest.fixture
def ride_on_the_street(db_conn, other_rider, process):
    load_oslo_roads(db_conn)
    _, coords = road_by_name(STREET)
    points = ride_along(coords, utc(2024, 5, 8, 17, 0, 0), seed=9)
    other_rider.upload_id(ride_csv(points, {50: 110}), public=True)
    assert process() == 1
    return coords


def open_map(browser, url):
    page = browser.new_page(viewport={"width": 1000, "height": 700})
    errors = watch_for_errors(page)
    response = page.goto(url)
    assert "script-src 'self'" in response.headers["content-security-policy"]
    wait_for_js(page, "document.getElementById('map').dataset.ready === '1'")
    wait_for_js(page, "window.portalMap.loaded() && window.portalMap.areTilesLoaded()")
    return page, errors


def test_the_map_loads_layers_toggle_and_a_road_opens_its_statistics(
        server, browser, ride_on_the_street):
    lon, lat = ride_on_the_street[len(ride_on_the_street) // 2]
    page, errors = open_map(browser, f"{server}/#c={lon},{lat}&z=16")
    groups = page.locator(".layer-panel fieldset legend").all_inner_texts()
    assert {"Base map", "Public transport", "Rides"} <= set(groups)
    assert page.locator("canvas.maplibregl-canvas").count() == 1
    wait_for_js(page, "window.portalMap.queryRenderedFeatures("
                      "{layers: ['road_stats']}).length > 0")
    assert page.locator(".legend").inner_text().count("close passes") >= 1

    # toggle: events off, then on again; the URL follows
    box = page.locator("input[name=layer][value=events]")
    box.uncheck()
    assert page.evaluate("window.portalMap.getLayoutProperty('events', 'visibility')") \
        == "none"
    assert "events" not in page.evaluate("location.hash").split("l=")[1].split("&")[0]
    box.check()
    assert page.evaluate("window.portalMap.getLayoutProperty('events', 'visibility')") \
        == "visible"

    # click the road where the ride went: its statistics open
    x, y = page.evaluate(f"(() => {{ const p = window.portalMap.project([{lon}, {lat}]);"
                         " return [p.x, p.y]; })()")
    page.locator("#map canvas").click(position={"x": x, "y": y})
    panel = page.locator(".road-panel")
    panel.wait_for(state="visible", timeout=10_000)
    assert STREET in panel.locator("h3").inner_text()
    assert "Passes" in panel.inner_text()
    assert not errors, errors


def test_the_url_restores_the_view_and_the_layers(server, browser, ride_on_the_street):
    url = f"{server}/#c=10.74321,59.92345&z=15.25&l=roads,road_stats"
    page, errors = open_map(browser, url)
    center = page.evaluate("window.portalMap.getCenter().toArray()")
    assert center == pytest.approx([10.74321, 59.92345], abs=1e-4)
    assert page.evaluate("window.portalMap.getZoom()") == pytest.approx(15.25, abs=0.01)
    checked = page.eval_on_selector_all("input[name=layer]:checked",
                                        "els => els.map(e => e.value)")
    assert set(checked) == {"roads", "road_stats"}
    assert page.evaluate("window.portalMap.getLayoutProperty('stops', 'visibility')") \
        == "none"
    # moving the map writes the new view into the URL, and that URL restores it
    page.evaluate("window.portalMap.jumpTo({center: [10.75, 59.91], zoom: 14})")
    wait_for_js(page, "location.hash.includes('c=10.75000,59.91000')")
    again, _ = open_map(browser, page.url)
    assert again.evaluate("window.portalMap.getZoom()") == pytest.approx(14, abs=0.01)
    assert set(again.eval_on_selector_all("input[name=layer]:checked",
                                          "els => els.map(e => e.value)")) \
        == {"roads", "road_stats"}
    assert not errors, errors


def test_the_map_is_usable_on_a_phone(server, browser):
    page = browser.new_page(viewport={"width": 390, "height": 780}, is_mobile=True,
                            has_touch=True)
    page.goto(f"{server}/")
    wait_for_js(page, "document.getElementById('map').dataset.ready === '1'")
    assert page.locator(".layer-panel .panel-body").is_hidden()
    page.locator(".panel-toggle").click()
    assert page.locator(".layer-panel .panel-body").is_visible()
    box = page.locator(".layer-panel").bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 390


def test_a_content_security_policy_violation_would_be_caught(server, browser):
    """The map tests above see no violation; this shows they would: inline script, which
    the policy forbids, is blocked and reported."""
    page = browser.new_page()
    errors = watch_for_errors(page)
    page.goto(f"{server}/")
    page.evaluate("(() => { const s = document.createElement('script');"
                  " s.textContent = 'window.inlineRan = true'; document.body.append(s); })()")
    wait_until(lambda: errors, 10, message="the CSP violation to be reported")
    assert "Content Security Policy" in errors[0]
    assert page.evaluate("window.inlineRan === undefined")
