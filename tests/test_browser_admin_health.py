"""The admin health page in a real Chromium keeps itself current: a scheduler that starts
beating while the page is open shows as beating, without a reload."""

from __future__ import annotations

from matching_and_import_db.workers import beat, mark_alive
from tests.browser_helpers import logged_in_page
from tests.conftest import login, wait_until

SCHEDULER_STATE = "document.querySelector('#component-scheduler').className"


def test_the_health_page_follows_a_scheduler_that_starts_beating(browser, server, app,
                                                                 oidc_provider, redis):
    admin_client = app.test_client()
    login(admin_client, oidc_provider, "ada", ["admin"])
    page, errors = logged_in_page(browser, server, app, admin_client.get("/api/me").json["id"])
    page.goto(f"{server}/admin/health")
    assert page.evaluate(SCHEDULER_STATE) == "state-failed"  # no scheduler yet
    assert page.locator("#overall").inner_text() == "failed"

    def scheduler_beats_and_page_shows_it() -> bool:
        beat(redis, "host-a:1", ttl_seconds=120)  # as a live scheduler does, every few s
        mark_alive(redis, "host-a:1")
        return page.evaluate(SCHEDULER_STATE) == "state-ok"
    wait_until(scheduler_beats_and_page_shows_it, 60, interval=1,
               message="the open page showing the scheduler beating")
    assert "host-a:1: heartbeat" in page.locator("#components").inner_text()
    assert page.locator("#refreshed").inner_text().startswith("Updated ")
    assert page.locator("#overall").inner_text() == page.evaluate(
        "document.querySelector('#overall').className").removeprefix("state-")
    assert not errors, errors
