"""Uploading rides: the OpenBikeSensor device API with an API key, the browser, and every
way a file can be wrong (a clear message, nothing stored)."""

from __future__ import annotations

import gzip
import io
import tracemalloc
import zlib
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.conftest import csrf_token, make_app, wait_until
from tests.ride_helpers import BERLIN_RIDE, events_of, obs_file, obs_row, ride_row


def raw_files(settings_env) -> list[Path]:
    return sorted((Path(settings_env["PORTAL_DATA_DIR"]) / "raw").glob("*/*.gz"))


def test_device_upload_of_the_berlin_ride_is_processed_by_the_scheduler(
        rider, db_conn, start_scheduler):
    resp = rider.upload(BERLIN_RIDE.read_bytes(), BERLIN_RIDE.name)
    assert resp.status_code == 201
    ride_id = resp.get_json()["ride"]["id"]
    assert resp.get_json()["ride"]["status"] == "queued"

    scheduler = start_scheduler()
    wait_until(lambda: ride_row(db_conn, ride_id)["status"] in ("complete", "error"), 60,
               message="the scheduler to process the ride")
    row = ride_row(db_conn, ride_id)
    assert row["status"] == "complete", row["status_message"]
    # the four confirmed overtakes: GPS time in the file minus 18 leap seconds; Left is
    # already corrected for the handlebar offset by the firmware
    assert [(e["time"].astimezone(UTC).replace(tzinfo=None), e["distance_left"])
            for e in events_of(db_conn, ride_id)] == [
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
    assert again.get_json()["ride"]["id"] == first.get_json()["ride"]["id"]
    assert again.get_json()["created"] is False
    assert len(raw_files(settings_env)) == 1


def test_a_raw_body_upload_works_too(rider):
    resp = rider.client.post("/api/rides?filename=ride.csv", data=BERLIN_RIDE.read_bytes(),
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
        cur.execute("SELECT count(*) FROM rides")
        assert cur.fetchone()[0] == 0
    assert raw_files(settings_env) == []


def test_a_file_over_the_size_limit_is_413(settings_env, oidc_provider):
    from tests.ride_helpers import make_rider
    app = make_app(settings_env, upload_max_bytes=100_000)
    small = make_rider(app, oidc_provider, "sam")
    resp = small.upload(BERLIN_RIDE.read_bytes())
    assert resp.status_code == 413
    assert "100000 bytes" in resp.get_json()["error"]["message"]


def test_a_wrong_api_key_is_401(rider):
    resp = rider.client.post("/api/rides", data={"body": (io.BytesIO(b"x"), "a.csv")},
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
    without = rider.client.post("/api/rides",
                                data={"body": (io.BytesIO(BERLIN_RIDE.read_bytes()), "r.csv")})
    assert without.status_code == 400
    with_token = rider.client.post(
        "/api/rides", data={"body": (io.BytesIO(BERLIN_RIDE.read_bytes()), "r.csv")},
        headers={"X-CSRFToken": csrf_token(rider.client, "/rides/upload")})
    assert with_token.status_code == 201
    assert with_token.get_json()["ride"]["public"] is False


def test_the_upload_form_takes_several_files_and_reports_each(rider, db_conn):
    good = BERLIN_RIDE.read_bytes()
    resp = rider.client.post("/rides/upload", data={
        "csrf_token": csrf_token(rider.client, "/rides/upload"),
        "files": [(io.BytesIO(good), "berlin.csv"), (io.BytesIO(b"nonsense"), "junk.csv")]})
    page = resp.data.decode()
    assert resp.status_code == 422  # one of them failed
    assert "berlin.csv" in page and "uploaded" in page
    assert "junk.csv" in page and "class=\"error\"" in page
    with db_conn.cursor() as cur:
        cur.execute("SELECT original_filename FROM rides")
        assert [r[0] for r in cur.fetchall()] == ["berlin.csv"]


def test_new_rides_take_the_default_visibility_from_settings(rider):
    rider.post_form("/settings/visibility", {"public": "1"}, page="/settings")
    resp = rider.upload(BERLIN_RIDE.read_bytes())
    assert resp.get_json()["ride"]["public"] is True


def test_anonymous_upload_is_401(client):
    resp = client.post("/api/rides", data={"body": (io.BytesIO(b"x"), "a.csv")},
                       headers={"X-CSRFToken": csrf_token(client)})
    assert resp.status_code == 401


def test_uploads_are_rate_limited(settings_env, oidc_provider):
    from tests.ride_helpers import make_rider
    app = make_app(settings_env, ratelimit_upload="2 per minute")
    r = make_rider(app, oidc_provider, "quick")
    codes = [r.upload(BERLIN_RIDE.read_bytes()).status_code for _ in range(3)]
    assert codes == [201, 200, 429]
    assert int(r.upload(b"x").headers["Retry-After"]) > 0


# --- bounds: nested gzip, ride size, broken values (issue 10, findings 3, 4 and 9) ---------

def _zeros_gzip(size: int) -> bytes:
    """gzip of size zero bytes, made in pieces (the test never holds them all)."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    piece = bytes(1 << 20)
    out = [packer.compress(piece) for _ in range(size >> 20)]
    return b"".join(out) + packer.flush()


def _upload_peak(rider, data: bytes, filename: str):
    """The response, and the most memory Python held while the app answered it."""
    tracemalloc.start()
    try:
        resp = rider.upload(data, filename)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return resp, peak


def test_a_gzip_bomb_inside_a_gzip_is_refused_without_unpacking_it(rider, db_conn):
    bomb = gzip.compress(_zeros_gzip(1 << 30), 9)  # 1 GiB of zeros, compressed twice
    assert len(bomb) < 5_000

    resp, peak = _upload_peak(rider, bomb, "ride.csv.gz")

    assert resp.status_code == 422
    assert "compressed twice" in resp.get_json()["error"]["message"]
    assert peak < 64 * 1024 * 1024
    with db_conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM rides")
        assert cur.fetchone()[0] == 0


def test_a_double_gzipped_file_over_the_limit_no_longer_slips_through(rider):
    rows = [obs_row(Time=f"12:{m:02d}:{s:02d}") for m in range(60) for s in range(60)]
    one = obs_file(rows)
    content = one * (40 * 1024 * 1024 // len(one) + 1)  # 40 MB once unpacked twice
    twice = gzip.compress(gzip.compress(content, 9), 9)
    assert len(twice) < 200_000

    resp, peak = _upload_peak(rider, twice, "big.csv.gz")

    assert resp.status_code == 422
    assert "compressed twice" in resp.get_json()["error"]["message"]
    assert peak < 64 * 1024 * 1024


def test_a_single_gzip_layer_over_the_limit_is_413_and_unpacked_only_to_the_limit(
        settings_env, oidc_provider):
    from tests.ride_helpers import make_rider
    app = make_app(settings_env, upload_max_bytes=1_000_000)
    small = make_rider(app, oidc_provider, "sam")
    resp, peak = _upload_peak(small, _zeros_gzip(64 << 20), "zeros.csv.gz")
    assert resp.status_code == 413
    assert "larger than the limit of 1000000 bytes once unpacked" in \
        resp.get_json()["error"]["message"]
    assert peak < 16 * 1024 * 1024


def _gpx(points: list[tuple[str, str, str]]) -> bytes:
    trkpts = "".join(f'<trkpt lat="{lat}" lon="{lon}"><time>{time}</time></trkpt>'
                     for lat, lon, time in points)
    return (f'<?xml version="1.0"?><gpx version="1.1" creator="t" '
            f'xmlns="http://www.topografix.com/GPX/1/1"><trk><trkseg>{trkpts}'
            f"</trkseg></trk></gpx>").encode()


RIDE_CAPS = dict(ride_max_points=120, ride_max_hours=1.0)


@pytest.mark.parametrize(("data", "filename", "status", "message"), [
    (_gpx([("52.5", "inf", "2024-05-01T10:00:00Z"), ("52.5", "13.4", "2024-05-01T10:00:01Z")]),
     "inf.gpx", 422, "Track point 1 of the GPX file has a latitude or longitude that is not"),
    (_gpx([("nan", "13.4", "2024-05-01T10:00:00Z"), ("52.5", "13.4", "2024-05-01T10:00:01Z")]),
     "nan.gpx", 422, "Track point 1 of the GPX file has a latitude or longitude"),
    (_gpx([("52.5", "13.4", "0001-01-01T00:00:00Z"), ("52.5", "13.4", "2024-05-01T10:00:01Z")]),
     "year1.gpx", 422, "Track point 1 of the GPX file has a time outside 1990 to today"),
    (_gpx([("52.5", "13.4", "0001-01-01T00:00:00+05:00")]),
     "year1tz.gpx", 422, "Track point 1 of the GPX file has a time outside"),
    (obs_file([obs_row()], metadata="OBSDataFormat=2&DeviceId=" + "d" * 5_000_000),
     "device.csv", 422, "The first line of the file is longer than 16384 characters"),
    (obs_file([obs_row()], metadata="OBSDataFormat=2&TimeZone=GPS&DeviceId=" + "d" * 200),
     "device.csv", 422, "The metadata line's DeviceId is longer than 100 characters"),
    (obs_file([obs_row()]).replace(b"Latitude", b"Lati\x00tude"),
     "header.csv", 422, "NUL byte on line 2"),
    (obs_file([obs_row(Time=f"12:{i // 60:02d}:{i % 60:02d}") for i in range(121)]),
     "long.csv", 422, "more than 120 measurements; the portal takes at most 120 per ride"),
    (obs_file([obs_row(Time="12:00:18"), obs_row(Time="13:30:18")]),
     "hours.csv", 422, "The ride lasts longer than 1 hours (line 4)"),
    (_gpx([("52.5", "13.4", f"2024-05-01T10:{i // 60:02d}:{i % 60:02d}Z") for i in range(121)]),
     "long.gpx", 422, "The GPX file has more than 120 points"),
    (_gpx([("52.5", "13.4", "2024-05-01T10:00:00Z"), ("52.5", "13.4", "2024-05-01T12:00:00Z")]),
     "hours.gpx", 422, "The ride lasts longer than 1 hours"),
], ids=["gpx-inf", "gpx-nan", "gpx-year-1", "gpx-year-1-offset", "device-id-5mb",
        "device-id-200", "nul-in-header", "csv-points", "csv-hours", "gpx-points",
        "gpx-hours"])
def test_broken_or_oversized_rides_get_a_clear_422_at_upload(
        settings_env, oidc_provider, db_conn, data, filename, status, message):
    from tests.ride_helpers import make_rider
    capped = make_rider(make_app(settings_env, **RIDE_CAPS), oidc_provider, "cara")
    resp = capped.upload(data, filename)
    assert resp.status_code == status, resp.get_json()
    assert message in resp.get_json()["error"]["message"]
    with db_conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM rides")
        assert cur.fetchone()[0] == 0


@pytest.mark.parametrize(("filename", "title"), [("ri\x00de.csv", None), ("ride.csv", "a\x00b")],
                         ids=["filename", "title"])
def test_a_nul_in_the_file_name_or_title_is_400(rider, filename, title):
    form = {"body": (io.BytesIO(BERLIN_RIDE.read_bytes()), filename)}
    if title is not None:
        form["title"] = title
    resp = rider.client.post("/api/rides", data=form,
                             headers={"Authorization": f"OBSUserId {rider.key}"},
                             content_type="multipart/form-data")
    assert resp.status_code == 400
    assert "NUL" in resp.get_json()["error"]["message"]


def test_a_stored_ride_past_the_schedulers_limits_ends_in_a_readable_error(
        rider, db_conn, settings_env):
    import psycopg2

    from matching_and_import_db.rides.model import RideLimits
    from matching_and_import_db.rides.processing import ProcessingConfig, process_pending
    ride_id = rider.upload_id(BERLIN_RIDE.read_bytes())
    config = ProcessingConfig(data_dir=settings_env["PORTAL_DATA_DIR"], lease_seconds=60,
                              ride_limits=RideLimits(max_points=100))
    process_pending(lambda: psycopg2.connect(settings_env["PORTAL_DATABASE_URL"]),
                    "test:limits", config)
    row = ride_row(db_conn, ride_id)
    assert row["status"] == "error"
    assert "more than 100 measurements" in row["status_message"]
