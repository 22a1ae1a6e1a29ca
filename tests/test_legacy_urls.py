"""Rides have one name; the URLs from before it keep working: a GET of an old
URL is a permanent redirect to the new one, the device upload at POST /api/tracks (the
OpenBikeSensor firmware's URL) answers as POST /api/rides does. (codemod: keep-legacy-names)"""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from app.rides.legacy import LEGACY_URLS

OBS_RIDE = (Path(__file__).parent / "fixtures" / "rides" / "obs"
            / "2022-02-19T12.58.59-b8cf.obsdata.csv")


@pytest.mark.parametrize(("old", "new"), [
    ("/tracks", "/rides/mine"),
    ("/tracks?sort=recorded&q=x", "/rides/mine?sort=recorded&q=x"),
    ("/tracks/upload", "/rides/upload"),
    ("/tracks/12", "/rides/12"),
    ("/tracks/12/raw", "/rides/12/raw"),
    ("/tracks/12/export.gpx", "/rides/12/export.gpx"),
    ("/api/tracks", "/api/rides"),
    ("/api/tracks/12", "/api/rides/12"),
    ("/api/tracks/12/data", "/api/rides/12/data"),
])
def test_an_old_ride_url_is_a_permanent_redirect_to_the_new_one(client, old, new):
    resp = client.get(old)
    assert resp.status_code == 308
    assert resp.headers["Location"].endswith(new)


def test_the_public_list_keeps_its_url_and_my_rides_have_their_own(client):
    assert client.get("/rides").status_code == 200
    assert client.get("/rides/mine").status_code == 302  # log in first


def test_links_are_built_to_the_new_urls(app):
    with app.test_request_context():
        from flask import url_for
        assert url_for("rides.mine") == "/rides/mine"
        assert url_for("rides_api.upload") == "/api/rides"
        assert url_for("rides.delete", ride_id=3) == "/rides/3/delete"


def test_every_legacy_url_belongs_to_a_served_endpoint(app):
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    assert {endpoint for _, endpoint, _ in LEGACY_URLS} <= endpoints


@pytest.mark.parametrize("url", ["/api/tracks", "/api/rides"])
def test_the_device_upload_works_at_the_obs_firmware_url_and_the_new_one(rider, url):
    """As the firmware sends it: the API key header and the file in the field `body`; the
    answer names the ride "ride" and, for the firmware and old clients, "track" too."""
    resp = rider.client.post(url, data={"body": (io.BytesIO(OBS_RIDE.read_bytes()),
                                                  OBS_RIDE.name)},
                             headers={"Authorization": f"OBSUserId {rider.key}"},
                             content_type="multipart/form-data")
    assert resp.status_code == 201, resp.data[:300]
    body = resp.get_json()
    assert body["ride"]["id"] > 0 and body["track"] == body["ride"]
