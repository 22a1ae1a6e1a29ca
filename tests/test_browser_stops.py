"""The stop problems page in a real Chromium: an operator sees a stop renamed in OSM with the
platform it is offered drawn on the map beside it, and pairs them with one click."""

from __future__ import annotations

from tests.browser_helpers import logged_in_page, wait_for_js
from tests.conftest import login
from tests.stops_helpers import publish_golden_with_a_renamed_stop, published_pairs


def test_an_operator_sees_a_renamed_stop_on_the_map_and_pairs_it_in_one_click(
        browser, server, app, oidc_provider, settings_env, db_conn, tmp_path):
    publish_golden_with_a_renamed_stop(settings_env, db_conn, tmp_path)
    operator = app.test_client()
    login(operator, oidc_provider, "olga", ["operator"])  # a real login: the role is checked
    page, errors = logged_in_page(browser, server, app, operator.get("/api/me").json["id"])
    page.goto(f"{server}/stops/problems?q=Bahnhofstrasse")
    wait_for_js(page, "document.getElementById('stops-map').dataset.ready === '1'")
    # the registry stop, the OSM platform offered for it, and the line between them
    assert page.eval_on_selector("#stops-map", "el => [el.dataset.points, el.dataset.pairs]") \
        == ["2", "1"]
    page.click("article.problem button.show-on-map")
    page.wait_for_selector("article.problem.selected")
    offer = page.locator("form.renamed-suggestion")
    assert "Unmatched OSM" in offer.inner_text()
    offer.locator("button").click()
    page.wait_for_url("**/stops/problems**")
    assert ("ch:1:sloid:renamed", "n9") in published_pairs(db_conn)
    assert page.locator("form.renamed-suggestion").count() == 0
    assert errors == []
