"""Uploading rides: the OpenBikeSensor device API with an API key, the browser, and every
way a file can be wrong (a clear message, nothing stored)."""

from __future__ import annotations

import gzip
import io
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.conftest import FIXTURES, csrf_token, make_app, wait_until
from tests.ride_helpers import obs_file, obs_row
from tests.rides_fixtures import events_of, track_row

BERLIN_RIDE = FIXTURES / "tracks" / "obs" / "2022-02-19T12.58.59-b8cf.obsdata.csv"


def raw_files(settings_env) -> list[Path]:
    return sorted((Path(settings_env["PORTAL_DATA_DIR"]) / "raw").glob("*/*.gz"))


def test_device_upload_of_the_berlin_ride_is_processed_by_the_scheduler(
        rider, db_conn, start_scheduler):
    resp = rider.upload(BERLIN_RIDE.read_bytes(), BERLIN_RIDE.name)
    assert resp.status_code == 201
    track_id = resp.get_json()["track"]["id"]
    assert resp.get_json()["track"]["status"] == "queued"

    scheduler = start_scheduler()
    wait_until(lambda: track_row(db_conn, track_id)["status"] in ("complete", "error"), 60,
               message="the scheduler to process the ride")
    row = track_row(db_conn, track_id)
    assert row["status"] == "complete", row["status_message"]
    # the four confirmed overtakes: GPS time in the file minus 18 leap seconds; Left is
    # already corrected for the handlebar offset by the firmware
    assert [(e["time"].astimezone(UTC).replace(tzinfo=None), e["distance_left"])
            for e in events_of(db_conn, track_id)] == [
        (datetime(2022, 2, 19, 13, 3, 0), 0.94),
        (datetime(2022, 2, 19, 13, 8, 16), 1.11),
        (datetime(2022, 2, 19, 13, 9, 57), 0.83),
        (datetime(2022, 2, 19, 13, 23, 5), 0.77)]
    assert row["events_count"] == 4
    assert row["recorded_at"] == datetime(2022, 2, 19, 12, 59, 16, tzinfo=UTC)
    assert 5_000 < row["length_m"] < 15_000
    assert scheduler.stop() == 0


def test_the_same_file_twice_answers_with_the_existing_ride(rider, settings_env):
    first = rider.upload(BERLIN_RIDE.read_bytes())
    again = rider.upload(gzip.compress(BERLIN_RIDE.read_bytes()), "again.csv.gz")
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.get_json()["track"]["id"] == first.get_json()["track"]["id"]
    assert again.get_json()["created"] is False
    assert len(raw_files(settings_env)) == 1


def test_a_raw_body_upload_works_too(rider):
    resp = rider.client.post("/api/tracks?filename=ride.csv", data=BERLIN_RIDE.read_bytes(),
                             headers={"Authorization": f"OBSUserId {rider.key}"},
                             content_type="text/csv")
    assert resp.status_code == 201, resp.get_json()


BAD_FILES = [
    (b"", 400, "no file was sent"),
    (b"hello, this is just text\nwith two lines\n", 422, "not"),
    (b"\x1f\x8b\x08\x00garbage", 422, "gzip"),
    (obs_file([obs_row()], metadata="OBSDataFormat=7"), 422, "7"),
    (obs_file([obs_row(Latitude="", Longitude="")]), 422, "GPS"),
    (b'<?xml version="1.0"?><gpx version="1.1"><trk><trkseg><trkpt lat="1" lon="2"/>'
     b"</trkseg></trk></gpx>", 422, "timestamps"),
]


@pytest.mark.parametrize("data, status, message", BAD_FILES)
def test_a_bad_file_is_refused_with_a_message_and_nothing_is_stored(
        rider, db_conn, settings_env, data, status, message):
    resp = rider.upload(data, "bad.csv")
    assert resp.status_code == status
    error = resp.get_json()["error"]["message"]
    assert message.lower() in error.lower(), error
    with db_conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM tracks")
        assert cur.fetchone()[0] == 0
    assert raw_files(settings_env) == []


def test_a_file_over_the_size_limit_is_413(settings_env, oidc_provider):
    from tests.rides_fixtures import make_rider
    app = make_app(settings_env, upload_max_bytes=100_000)
    small = make_rider(app, oidc_provider, "sam")
    resp = small.upload(BERLIN_RIDE.read_bytes())
    assert resp.status_code == 413
    assert "100000 bytes" in resp.get_json()["error"]["message"]


def test_a_wrong_api_key_is_401(rider):
    resp = rider.client.post("/api/tracks", data={"body": (io.BytesIO(b"x"), "a.csv")},
                             headers={"Authorization": "OBSUserId not-a-key"})
    assert resp.status_code == 401
    assert "API key" in resp.get_json()["error"]["message"]


def test_a_new_api_key_replaces_the_old_one(rider):
    old = rider.key
    page = rider.post_form("/settings/api-key")
    new = page.data.decode().split('<pre id="api-key" class="key">')[1].split("<")[0]
    assert new != old
    assert rider.upload(BERLIN_RIDE.read_bytes()).status_code == 401
    rider.key = new
    assert rider.upload(BERLIN_RIDE.read_bytes()).status_code == 201
    # the settings page never shows the key again
    assert new not in rider.client.get("/settings").data.decode()


def test_a_browser_session_upload_needs_the_page_token(rider):
    without = rider.client.post("/api/tracks",
                                data={"body": (io.BytesIO(BERLIN_RIDE.read_bytes()), "r.csv")})
    assert without.status_code == 400
    with_token = rider.client.post(
        "/api/tracks", data={"body": (io.BytesIO(BERLIN_RIDE.read_bytes()), "r.csv")},
        headers={"X-CSRFToken": csrf_token(rider.client, "/tracks/upload")})
    assert with_token.status_code == 201
    assert with_token.get_json()["track"]["public"] is False


def test_the_upload_form_takes_several_files_and_reports_each(rider, db_conn):
    good = BERLIN_RIDE.read_bytes()
    resp = rider.client.post("/tracks/upload", data={
        "csrf_token": csrf_token(rider.client, "/tracks/upload"),
        "files": [(io.BytesIO(good), "berlin.csv"), (io.BytesIO(b"nonsense"), "junk.csv")]})
    page = resp.data.decode()
    assert resp.status_code == 422  # one of them failed
    assert "berlin.csv" in page and "uploaded" in page
    assert "junk.csv" in page and "class=\"error\"" in page
    with db_conn.cursor() as cur:
        cur.execute("SELECT original_filename FROM tracks")
        assert [r[0] for r in cur.fetchall()] == ["berlin.csv"]


def test_new_rides_take_the_default_visibility_from_settings(rider):
    rider.post_form("/settings/visibility", {"public": "1"}, page="/settings")
    resp = rider.upload(BERLIN_RIDE.read_bytes())
    assert resp.get_json()["track"]["public"] is True


def test_anonymous_upload_is_401(client):
    resp = client.post("/api/tracks", data={"body": (io.BytesIO(b"x"), "a.csv")},
                       headers={"X-CSRFToken": csrf_token(client)})
    assert resp.status_code == 401


def test_uploads_are_rate_limited(settings_env, oidc_provider):
    from tests.rides_fixtures import make_rider
    app = make_app(settings_env, ratelimit_upload="2 per minute")
    r = make_rider(app, oidc_provider, "quick")
    codes = [r.upload(BERLIN_RIDE.read_bytes()).status_code for _ in range(3)]
    assert codes == [201, 200, 429]
    assert int(r.upload(b"x").headers["Retry-After"]) > 0
