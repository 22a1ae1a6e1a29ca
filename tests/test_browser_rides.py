"""Ride pages in a real Chromium: a rider uploads two files at once and sees each one's
result, and the ride page draws its map and its chart of overtaking distances."""

from __future__ import annotations

from tests.browser_helpers import logged_in_page, wait_for_js
from tests.ride_helpers import load_oslo_roads, ride_along, ride_csv, road_by_name, utc


def user_id(db_conn, subject: str) -> int:
    with db_conn.cursor() as cur:
        cur.execute("SELECT id FROM users WHERE subject = %s", (subject,))
        (uid,) = cur.fetchone()
    db_conn.commit()
    return uid


def test_uploading_two_files_shows_a_result_for_each(browser, server, app, rider, db_conn,
                                                     tmp_path):
    _, coords = road_by_name("Jacob Aalls gate")
    good = tmp_path / "morning.csv"
    good.write_bytes(ride_csv(ride_along(coords, utc(2024, 5, 6, 8, 0, 0)), {20: 100}))
    bad = tmp_path / "notes.csv"
    bad.write_text("this is not a ride\n")
    page, errors = logged_in_page(browser, server, app, user_id(db_conn, rider.sub))
    page.goto(f"{server}/rides/upload")
    page.set_input_files('input[type="file"]', [str(good), str(bad)])
    page.click("#upload-form button[type=submit]")
    page.wait_for_selector("#upload-results li.error")
    page.wait_for_selector("#upload-results li.ok a")
    items = page.locator("#upload-results li")
    assert items.count() == 2
    assert "uploaded" in items.nth(0).inner_text()
    assert "notes.csv" in items.nth(1).inner_text() and "not" in items.nth(1).inner_text()
    assert errors == []


def test_the_ride_page_draws_the_map_and_the_distance_chart(browser, server, app, rider,
                                                            db_conn, process):
    load_oslo_roads(db_conn)
    _, coords = road_by_name("Jacob Aalls gate")
    ride_id = rider.upload_id(ride_csv(ride_along(coords, utc(2024, 5, 6, 8, 0, 0)),
                                        {20: 100, 60: 180}))
    assert process() == 1
    page, errors = logged_in_page(browser, server, app, user_id(db_conn, rider.sub))
    page.goto(f"{server}/rides/{ride_id}")
    page.wait_for_selector("#ride-chart svg")
    # two confirmed overtakes as big dots: red below the 1.5 m minimum, green above
    fills = page.eval_on_selector_all("#ride-chart svg circle[r='5']",
                                      "els => els.map(e => e.getAttribute('fill'))")
    assert sorted(fills) == ["#1a9641", "#d7191c"]
    wait_for_js(page, "document.querySelector('#ride-map canvas') !== null")
    assert errors == []
