"""GBFS in the web app: feeds added by operators (API, the pipelines page, the CLI), a
station's history for the map's panel, the layers in the catalog, and every feed
re-published as GBFS 2.3 and 3.0 that the official schemas accept."""

from __future__ import annotations

import json

import pytest

from matching_and_import_db.live.gbfs.validation import validator
from tests.conftest import csrf_token, login
from tests.gbfs_helpers import count, poll, recorded


def _operator(client, oidc_provider):
    login(client, oidc_provider, "feeder", roles=["operator"])
    return {"X-CSRFToken": csrf_token(client)}


def test_an_operator_adds_a_feed_with_request_headers(client, oidc_provider):
    headers = _operator(client, oidc_provider)
    resp = client.post("/api/live/feeds", headers=headers, json={
        "slug": "oslo", "url": "https://gbfs.example.org/oslobysykkel/gbfs.json",
        "headers": {"Client-Identifier": "mycity-portal"}})
    assert resp.status_code == 201, resp.json
    listed = client.get("/api/live/feeds").json["feeds"]
    assert [f["slug"] for f in listed] == ["oslo"]
    assert listed[0]["header_names"] == ["Client-Identifier"]
    assert "mycity-portal" not in json.dumps(listed)  # a key in a header is not shown


@pytest.mark.parametrize(("body", "status", "message"), [
    ({"slug": "Oslo!", "url": "https://x.example/gbfs.json"}, 400, "feed name"),
    ({"slug": "oslo", "url": "ftp://x.example/gbfs.json"}, 400, "http(s) URL"),
    ({"slug": "oslo", "url": "https://x.example/gbfs.json",
      "headers": {"Client-Identifier": "a\r\nX-Evil: 1"}}, 400, "on one line"),
    ({"slug": "oslo", "url": "https://x.example/gbfs.json", "headers": {"Host": "y"}},
     400, "set by the poller"),
])
def test_a_bad_feed_is_refused_naming_the_problem(client, oidc_provider, body, status,
                                                  message):
    resp = client.post("/api/live/feeds", headers=_operator(client, oidc_provider), json=body)
    assert resp.status_code == status
    assert message in resp.json["error"]["message"]


def test_the_same_feed_name_twice_is_a_conflict(client, oidc_provider):
    headers = _operator(client, oidc_provider)
    body = {"slug": "oslo", "url": "https://x.example/gbfs.json"}
    assert client.post("/api/live/feeds", headers=headers, json=body).status_code == 201
    assert client.post("/api/live/feeds", headers=headers, json=body).status_code == 409


def test_the_pipelines_page_adds_a_feed_and_shows_its_state(client, oidc_provider):
    headers = _operator(client, oidc_provider)
    resp = client.post("/pipelines/gbfs-feeds", headers=headers, data={
        "slug": "oslo", "url": "https://x.example/gbfs.json",
        "headers": '{"Client-Identifier": "mycity-portal"}'})
    assert resp.status_code == 302
    page = client.get("/pipelines").data.decode()
    assert "https://x.example/gbfs.json" in page and "not polled yet" in page


def test_the_cli_adds_a_feed(app):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["gbfs", "add", "oslo", "https://x.example/gbfs.json",
                                 "--header", "Client-Identifier: mycity-portal"])
    assert result.exit_code == 0, result.output
    again = runner.invoke(args=["gbfs", "add", "oslo", "https://x.example/gbfs.json",
                                "--if-missing"])
    assert "exists" in again.output
    listed = [json.loads(line) for line in
              runner.invoke(args=["gbfs", "list"]).output.splitlines()]
    assert listed[0]["header_names"] == ["Client-Identifier"]
    bad = runner.invoke(args=["gbfs", "add", "x", "https://x.example/", "--header", "nocolon"])
    assert bad.exit_code != 0 and "Name: value" in bad.output


def test_a_station_history_is_charted_by_day_and_week(replay, add_feed, client, db_conn,
                                                      redis):
    add_feed("lillestrom", f"{replay.url}/lillestrombysykkel/gbfs.json")
    poll(db_conn, redis, "lillestrom")
    doc = recorded("lillestrombysykkel", "station_status")
    station = doc["data"]["stations"][0]
    bikes_before = station["num_bikes_available"]
    station["num_bikes_available"] = bikes_before + 1
    replay.override("/lillestrombysykkel/station_status.json", json.dumps(doc).encode())
    poll(db_conn, redis, "lillestrom", later_s=3600)
    sid = station["station_id"]
    for period in ("day", "week"):
        got = client.get(f"/api/live/stations/lillestrom/{sid}/history?period={period}")
        assert got.status_code == 200
        assert [p["num_bikes_available"] for p in got.json["points"]] == [
            bikes_before, bikes_before + 1]
    assert client.get(f"/api/live/stations/lillestrom/{sid}/history?period=year"
                      ).status_code == 400
    assert client.get("/api/live/stations/lillestrom/nope/history").status_code == 404


def test_the_layers_are_collections_of_the_catalog(replay, add_feed, client, db_conn, redis):
    add_feed("almere", f"{replay.url}/ridecheck_almere/gbfs.json")
    add_feed("lillestrom", f"{replay.url}/lillestrombysykkel/gbfs.json")
    poll(db_conn, redis, "almere")
    poll(db_conn, redis, "lillestrom")
    stations = client.get("/ogc/collections/gbfs_stations/items?limit=100").json
    assert len(stations["features"]) == count(db_conn, "gbfs_stations", "lillestrom")
    assert stations["features"][0]["id"].startswith("lillestrom:")
    zones = client.get("/ogc/collections/gbfs_zones/items?limit=100").json
    assert len(zones["features"]) == count(db_conn, "gbfs_zones", "almere")
    assert zones["features"][0]["geometry"]["type"] == "MultiPolygon"
    assert client.get("/ogc/collections/gbfs_vehicles/items").status_code == 200


@pytest.mark.parametrize("folder", ["lillestrombysykkel", "helsinki", "ridecheck_almere",
                                    "tier_wolfsburg_v2.3"])
@pytest.mark.parametrize("version", ["2.3", "3.0"])
def test_every_feed_is_republished_in_2_3_and_3_0_as_the_schemas_require(
        replay, add_feed, client, db_conn, redis, folder, version):
    add_feed("mirror", f"{replay.url}/{folder}/gbfs.json")
    poll(db_conn, redis, "mirror")
    root = client.get(f"/gbfs/mirror/{version}/gbfs.json")
    assert root.status_code == 200
    errors = list(validator(version, "gbfs").iter_errors(root.json))
    assert not errors, errors[0].message
    data = root.json["data"]
    feeds = data["feeds"] if version == "3.0" else next(iter(data.values()))["feeds"]
    names = {f["name"] for f in feeds}
    assert "system_information" in names
    for f in feeds:
        assert f["url"].startswith("http://localhost/gbfs/mirror/")
        got = client.get(f["url"].removeprefix("http://localhost"))
        assert got.status_code == 200, f["url"]
        errors = list(validator(version, f["name"]).iter_errors(got.json))
        assert not errors, f"{f['name']}: {errors[0].message}"
        assert got.headers["Cache-Control"] == f"public, max-age={got.json['ttl']}"
        again = client.get(f["url"].removeprefix("http://localhost"),
                           headers={"If-None-Match": got.headers["ETag"]})
        assert again.status_code == 304


def test_republished_status_carries_what_was_polled(replay, add_feed, client, db_conn, redis):
    add_feed("lillestrom", f"{replay.url}/lillestrombysykkel/gbfs.json")
    poll(db_conn, redis, "lillestrom")
    source = {s["station_id"]: s for s in
              recorded("lillestrombysykkel", "station_status")["data"]["stations"]}
    v3 = client.get("/gbfs/lillestrom/3.0/station_status.json").json["data"]["stations"]
    assert {s["station_id"]: s["num_vehicles_available"] for s in v3} == {
        sid: s["num_bikes_available"] for sid, s in source.items()}
    root = client.get("/gbfs/lillestrom/gbfs.json")  # for apps that know no version yet
    assert root.status_code == 200 and root.json["version"] == "2.3"
    assert client.get("/gbfs/lillestrom/1.0/gbfs.json").status_code == 404
    assert client.get("/gbfs/nope/2.3/gbfs.json").status_code == 404
