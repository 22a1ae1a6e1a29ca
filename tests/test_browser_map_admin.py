"""The map arranged by an admin in a real Chromium: the admin moves a layer to another group,
changes its colour and collapses a group on /admin/map; a visitor's map shows it after a
reload; undo brings the old arrangement back. A click opens the popup fields an admin chose."""

from __future__ import annotations

from tests.browser_helpers import logged_in_page, wait_for_js, watch_for_errors
from tests.conftest import csrf_token, login
from tests.dataset_helpers import PARKING_GEOJSON, dataset_pipeline, run_dataset

OSLO = "#c=10.76,59.915&z=13"
EVENTS_COLOUR = "window.portalMap.getPaintProperty('events', 'circle-color')"


def group_of(page, layer_id: str) -> str:
    return page.locator(f".layer-panel fieldset:has(input[name=layer][value={layer_id}])"
                        " legend").inner_text()


def open_map(page, server):
    page.goto(f"{server}/{OSLO}")
    wait_for_js(page, "document.getElementById('map').dataset.ready === '1'")


def test_an_admin_moves_and_recolours_a_layer_a_visitor_sees_it_and_undo_restores_it(
        browser, server, app, oidc_provider):
    admin_client = app.test_client()
    login(admin_client, oidc_provider, "ada", ["admin"])
    admin, admin_errors = logged_in_page(browser, server, app,
                                         admin_client.get("/api/me").json["id"])
    visitor = browser.new_page(viewport={"width": 1000, "height": 700})
    visitor_errors = watch_for_errors(visitor)
    open_map(visitor, server)
    assert group_of(visitor, "events") == "Rides"
    old_colour = visitor.evaluate(EVENTS_COLOUR)
    assert old_colour != "#ff00ff"

    admin.goto(f"{server}/admin/map")
    row = admin.locator("tr#layer-events")
    row.locator("select[name=layer-events-group]").select_option(label="Base map")
    row.locator("input[name=layer-events-colour]").fill("#ff00ff")
    assert row.locator("select[name=layer-events-style]").input_value() == "colour"
    admin.locator("input[name=group-public-transport-collapsed]").check()
    admin.locator("#arrangement button[type=submit]").click()
    admin.locator("p.notice").wait_for()
    assert "Saved" in admin.locator("p.notice").inner_text()
    assert "events: group, style" in admin.locator("table.history").inner_text()

    visitor.reload()
    wait_for_js(visitor, "document.getElementById('map').dataset.ready === '1'")
    assert group_of(visitor, "events") == "Base map"
    assert visitor.evaluate(EVENTS_COLOUR) == "#ff00ff"
    assert "Overtaking events" in visitor.locator(".legend").inner_text()
    # the collapsed group shows its name only, until the visitor opens it
    stops_box = visitor.locator("input[name=layer][value=stops]")
    assert stops_box.is_hidden()
    visitor.locator("fieldset[data-group=public-transport] button.group-toggle").click()
    assert stops_box.is_visible()

    admin.locator("button[name=undo]").click()
    admin.locator("p.notice").wait_for()
    assert "Undone" in admin.locator("p.notice").inner_text()
    # the admin page shows the old arrangement again
    assert admin.locator("select[name=layer-events-group]").input_value() == "rides"

    visitor.reload()
    wait_for_js(visitor, "document.getElementById('map').dataset.ready === '1'")
    assert group_of(visitor, "events") == "Rides"
    assert visitor.evaluate(EVENTS_COLOUR) == old_colour
    assert visitor.locator("input[name=layer][value=stops]").is_visible()
    assert not admin_errors, admin_errors
    assert not visitor_errors, visitor_errors


def test_a_click_opens_the_popup_fields_an_admin_chose(browser, server, app, oidc_provider,
                                                       settings_env, db_conn):
    pipeline = dataset_pipeline(db_conn, "parking", slug="bicycle_parking",
                                source=str(PARKING_GEOJSON), title="Bicycle parking",
                                group="Open data", colour="#1f78b4")
    assert run_dataset(settings_env, pipeline)["status"] == "succeeded"
    admin = app.test_client()
    login(admin, oidc_provider, "ada", ["admin"])
    saved = admin.post("/admin/map/import", data={
        "csrf_token": csrf_token(admin, "/admin/map"),
        "yaml": "layers:\n  - {id: bicycle_parking, popup: [capacity, covered]}\n"})
    assert saved.status_code == 303

    lon, lat = 10.759346, 59.928445  # a wall-loop stand for 14 bicycles in the recorded file
    page = browser.new_page(viewport={"width": 1000, "height": 700})
    errors = watch_for_errors(page)
    page.goto(f"{server}/#c={lon},{lat}&z=18&l=bicycle_parking")
    wait_for_js(page, "document.getElementById('map').dataset.ready === '1'")
    wait_for_js(page, "window.portalMap.queryRenderedFeatures("
                      "{layers: ['bicycle_parking']}).length > 0")
    x, y = page.evaluate(f"(() => {{ const p = window.portalMap.project([{lon}, {lat}]);"
                         " return [p.x, p.y]; })()")
    page.locator("#map canvas").click(position={"x": x, "y": y})
    panel = page.locator(".road-panel")
    panel.wait_for(state="visible", timeout=10_000)
    rows = panel.locator("tr").all_inner_texts()
    assert [r.split("\t")[0] for r in rows] == ["capacity", "covered"]
    assert "14" in rows[0] and "no" in rows[1]
    assert not errors, errors
