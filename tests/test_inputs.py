"""The one input layer (app/params.py): NUL bytes, out-of-range dates and overlong values
are a 400 naming the parameter on every route, and links carry only the parameters they
should, from the public URL, whatever the request's Host says. Each case is a reproduction
from the hardening review (issue 10, finding 9) that answered 500 or a foreign link."""

from __future__ import annotations

import io

import pytest

from tests.conftest import csrf_token, login
from tests.ride_helpers import BERLIN_RIDE

# every route that reads a ride time range: from/to go through the week rounding there
DATED = ["/api/statistics", "/statistics", "/api/export/events.csv",
         "/api/export/events.geojson", "/api/export/roads.csv", "/api/export/roads.geojson",
         "/tiles/rides/14/8680/4766.mvt", "/tiles/events/14/8680/4766.mvt",
         "/tiles/road_stats/14/8680/4766.mvt", "/tiles/road_stats,events/14/8680/4766.mvt",
         "/ogc/collections/events/items", "/ogc/collections/road_stats/items",
         "/ogc/collections/events/items/1", "/ogc/collections/road_stats/items/1",
         "/ogc/collections/events/items?f=html"]


def _message(resp) -> str:
    body = resp.get_json(silent=True)
    if body is None:
        return resp.get_data(as_text=True)
    return body["error"]["message"] if "error" in body else body["description"]


@pytest.mark.parametrize("path", DATED)
@pytest.mark.parametrize("query, name", [("to=9999-12-31", "to"), ("from=0001-01-01", "from"),
                                         ("to=9999-12-31T23:59:59-23:00", "to")])
def test_a_date_out_of_range_is_400_naming_the_parameter(client, path, query, name):
    resp = client.get(f"{path}{'&' if '?' in path else '?'}{query}")
    assert resp.status_code == 400, resp.data[:300]
    assert f"{name} must lie between 1900-01-01 and 2200-01-01" in _message(resp)


# every route that reads a bbox, through the one parser: the same boxes, the same answers
BOXED = ["/api/export/events.csv", "/api/export/roads.geojson", "/api/stops/matches",
         "/api/stops/problems.csv", "/ogc/collections/roads/items"]


@pytest.mark.parametrize("path", BOXED)
@pytest.mark.parametrize("bbox, message", [
    ("8,47,9", "bbox must be four numbers: min lon, min lat, max lon, max lat (or six, "
               "with heights), got 3"),
    ("8,47,0,9,48,0,1", "got 7"),
    ("a,b,c,d", "bbox must be four numbers"),
    ("9,47,8,48", "with min < max"),
    ("8,47,8,48", "with min < max"),
    ("8,47,9,91", "inside -180..180 and -90..90"),
    ("nan,47,9,48", "with min < max"),
])
def test_every_bbox_is_read_by_one_parser_with_one_message(client, path, bbox, message):
    resp = client.get(f"{path}?bbox={bbox}")
    assert resp.status_code == 400, resp.data[:300]
    assert message in _message(resp)


@pytest.mark.parametrize("path", BOXED)
def test_a_bbox_with_heights_is_read_as_its_four_corners(client, path):
    flat = client.get(f"{path}?bbox=10.7,59.9,10.8,59.95")
    with_heights = client.get(f"{path}?bbox=10.7,59.9,0,10.8,59.95,100")
    assert flat.status_code == with_heights.status_code == 200
    assert _without_links(flat) == _without_links(with_heights)


def _without_links(resp):
    """The answer without its links (which repeat the bbox as it was given)."""
    body = resp.get_json(silent=True)
    if body is None:
        return resp.data
    return {k: v for k, v in body.items() if k not in ("links", "next", "timeStamp")}


def test_my_rides_page_refuses_an_out_of_range_date_too(rider):
    resp = rider.client.get("/rides/mine?from=0001-01-01")
    assert resp.status_code == 400
    assert "from must lie between" in resp.get_data(as_text=True)


@pytest.mark.parametrize("value", ["9999-12-31T00:00:00Z", "0001-01-01T00:00:00Z/..",
                                   "../9999-12-31T00:00:00Z"])
def test_an_ogc_datetime_out_of_range_is_400(client, value):
    resp = client.get(f"/ogc/collections/events/items?datetime={value}")
    assert resp.status_code == 400
    assert "datetime must lie between" in resp.get_json()["description"]


@pytest.mark.parametrize("path", [
    "/ogc/collections/roads/items?name=a%00b",           # an OGC property filter
    "/ogc/collections/roads/items/1%00",                  # an item id
    "/ogc/collections/official_stops/items/x%00y",
    "/api/stops/problems?q=%00",                           # a search
    "/api/stops/problems?type=%00",
    "/stops/problems?q=%00",
    "/api/statistics?from=2024-01-01%00",
    "/?x%00=1",                                            # a parameter's name
])
def test_a_nul_byte_anywhere_in_the_request_is_400(client, path):
    resp = client.get(path)
    assert resp.status_code == 400, resp.data[:300]
    assert "NUL byte" in _message(resp)


def test_a_nul_byte_in_a_header_is_400_before_it_reaches_the_database(client):
    resp = client.get("/api/rides", headers={"Authorization": "OBSUserId abc\x00def"})
    assert resp.status_code == 400
    assert "NUL byte" in resp.get_json()["error"]["message"]


def test_a_nul_byte_in_the_upload_title_or_filename_is_400_and_nothing_is_stored(
        rider, db_conn):
    auth = {"Authorization": f"OBSUserId {rider.key}"}
    by_query = rider.client.post("/api/rides?filename=ride%00.csv",
                                 data=BERLIN_RIDE.read_bytes(), headers=auth,
                                 content_type="text/csv")
    assert by_query.status_code == 400
    assert "'filename' contains a NUL byte" in by_query.get_json()["error"]["message"]
    by_form = rider.client.post("/api/rides", headers=auth, content_type="multipart/form-data",
                                data={"body": (io.BytesIO(BERLIN_RIDE.read_bytes()), "r.csv"),
                                      "title": "my\x00ride"})
    assert by_form.status_code == 400
    assert "'title' contains a NUL byte" in by_form.get_json()["error"]["message"]
    page = rider.client.post("/rides/upload", data={
        "csrf_token": csrf_token(rider.client, "/rides/upload"),
        "files": (io.BytesIO(BERLIN_RIDE.read_bytes()), "ri\x00de.csv")},
        content_type="multipart/form-data")
    assert page.status_code == 400
    with db_conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM rides")
        assert cur.fetchone()[0] == 0


def test_an_overlong_parameter_is_400_naming_it(client):
    resp = client.get("/api/stops/problems?q=" + "x" * 5000)
    assert resp.status_code == 400
    assert "'q' is too long" in resp.get_json()["error"]["message"]


@pytest.mark.parametrize("extra", ["endpoint=x", "_method=POST", "_external=1", "_anchor=x",
                                   "_scheme=https", "evil=1"])
def test_paging_links_carry_only_known_parameters_from_the_public_url(client, golden,
                                                                      extra):
    resp = client.get(f"/api/stops/matches?limit=1&{extra}",
                      headers={"Host": "attacker.example"})
    assert resp.status_code == 200, resp.data[:300]
    assert resp.get_json()["next"] == "http://localhost/api/stops/matches?limit=1&offset=1"


def test_problem_pages_keep_their_filter_in_links_and_nothing_else(app, oidc_provider,
                                                                   golden):
    from tests.ride_helpers import make_rider
    operator = make_rider(app, oidc_provider, "olga", roles=["operator"])
    page = operator.client.get("/stops/problems?type=unmatched_osm&endpoint=x&_external=1")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert 'href="/api/stops/problems.csv?type=unmatched_osm"' in text
    assert "_external" not in text and "endpoint=" not in text
    decisions = operator.client.get("/stops/decisions?endpoint=x&_method=POST")
    assert decisions.status_code == 200


def test_repeated_login_visits_do_not_grow_the_session_cookie(client, oidc_provider):
    """Found by the query fuzzing: each /login left its state in the cookie for an hour,
    until the cookie passed the 4 KB browsers keep."""
    for _ in range(15):  # under the login rate limit (20 a minute)
        assert client.get("/login").status_code == 302
    assert len(client.get_cookie("session").value) < 1200  # was 2,900 bytes
    done = login(client, oidc_provider, "lena")  # a login begun now still completes
    assert done.status_code == 302
    assert client.get("/api/me").get_json()["subject"] == "lena"
