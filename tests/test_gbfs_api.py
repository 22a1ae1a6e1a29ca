"""GBFS in the web app: feeds added by operators (API, the pipelines page, the CLI), a
station's history for the map's panel, the layers in the catalog, and every feed
re-published as GBFS 2.3 and 3.0 that the official schemas accept."""

from __future__ import annotations

import json

import pytest

from matching_and_import_db.live.gbfs.convert import CONVERTED
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


# (TIER Oslo's recording is trimmed to its zones: with no status file, no gbfs.json of it is
# valid; its zones are checked below)
@pytest.mark.parametrize("folder", ["lillestrombysykkel", "helsinki", "ridecheck_almere",
                                    "tier_wolfsburg_v2.3", "getaround_stavanger_v3"])
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
    assert set(CONVERTED) & _listed(recorded(folder, "gbfs")) <= names
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


def _listed(gbfs: dict) -> set[str]:
    data = gbfs["data"]
    feeds = data["feeds"] if "feeds" in data else next(iter(data.values()))["feeds"]
    return {f["name"] for f in feeds}


def _text(value, version: str):
    return value if version == "2.3" else value[0]["text"]


def _republished(client, version: str, name: str) -> dict:
    got = client.get(f"/gbfs/mirror/{version}/{name}.json")
    assert got.status_code == 200
    errors = list(validator(version, name).iter_errors(got.json))
    assert not errors, errors[0].message
    return got.json["data"]


@pytest.mark.parametrize("version", ["2.3", "3.0"])
@pytest.mark.parametrize(("folder", "type_id", "form_factor"), [
    ("lillestrombysykkel", "YLS:VehicleType:CityBike", "bicycle"),
    ("tier_wolfsburg_v2.3", "okai_escooter", "scooter_standing"),
    ("ridecheck_almere", "check_moped_almere_60", "moped"),
    ("getaround_stavanger_v3", "YGA:VehicleType:car-generic-hybrid", "car"),
])
def test_a_republished_vehicle_type_keeps_its_form_factor(
        replay, add_feed, client, db_conn, redis, version, folder, type_id, form_factor):
    add_feed("mirror", f"{replay.url}/{folder}/gbfs.json")
    poll(db_conn, redis, "mirror")
    source = {t["vehicle_type_id"]: t for t in
              recorded(folder, "vehicle_types")["data"]["vehicle_types"]}
    types = {t["vehicle_type_id"]: t for t in
             _republished(client, version, "vehicle_types")["vehicle_types"]}
    assert types.keys() == source.keys()
    assert types[type_id]["form_factor"] == form_factor
    assert types[type_id]["propulsion_type"] == source[type_id]["propulsion_type"]


@pytest.mark.parametrize("version", ["2.3", "3.0"])
@pytest.mark.parametrize(("folder", "plan_id", "price", "name"), [
    ("lillestrombysykkel", "YLS:PricingPlan:D16E7EC0-47F5-427D-9B71-CD079F989CC6", 50.0,
     "sesongkort"),
    ("getaround_stavanger_v3", "YGA:PricingPlan:1322175", 126.0,
     "Gjennomsnittspris per time"),
])
def test_a_republished_pricing_plan_keeps_its_price_and_name(
        replay, add_feed, client, db_conn, redis, version, folder, plan_id, price, name):
    add_feed("mirror", f"{replay.url}/{folder}/gbfs.json")
    poll(db_conn, redis, "mirror")
    plans = {p["plan_id"]: p for p in
             _republished(client, version, "system_pricing_plans")["plans"]}
    assert len(plans) == len(recorded(folder, "system_pricing_plans")["data"]["plans"])
    assert plans[plan_id]["price"] == price and plans[plan_id]["currency"] == "NOK"
    assert _text(plans[plan_id]["name"], version) == name


def test_tier_oslo_zones_ride_allowed_is_both_of_3_0s_rules(replay, add_feed, client,
                                                            db_conn, redis):
    add_feed("mirror", f"{replay.url}/tieroslo/gbfs.json")
    poll(db_conn, redis, "mirror")
    v2 = _republished(client, "2.3", "geofencing_zones")
    v3 = _republished(client, "3.0", "geofencing_zones")
    rule2 = v2["geofencing_zones"]["features"][0]["properties"]["rules"][0]
    rule3 = v3["geofencing_zones"]["features"][0]["properties"]["rules"][0]
    assert rule2["ride_allowed"] is True  # as TIER sent it
    assert (rule3["ride_start_allowed"], rule3["ride_end_allowed"]) == (True, True)
    assert rule3["vehicle_type_ids"] == rule2["vehicle_type_id"] == [
        "YTI:VehicleType:escooter_oslo", "YTI:VehicleType:ebicycle_oslo"]
    assert v3["geofencing_zones"]["features"][0]["properties"]["name"] == [
        {"text": "OSLO Summer 2021", "language": "en"}]
    assert v3["global_rules"] == []  # TIER says nothing of outside its zones


def test_almere_hubs_where_rides_start_but_not_end_forbid_rides_in_2_3(
        replay, add_feed, client, db_conn, redis):
    add_feed("mirror", f"{replay.url}/ridecheck_almere/gbfs.json")
    poll(db_conn, redis, "mirror")
    source = recorded("ridecheck_almere", "geofencing_zones")["data"]
    v2 = _republished(client, "2.3", "geofencing_zones")
    v3 = _republished(client, "3.0", "geofencing_zones")

    def hub(data, version):
        return next(f["properties"] for f in data["geofencing_zones"]["features"]
                    if _text(f["properties"]["name"], version) == "Hub Bergnet")

    assert hub(v3, "3.0")["rules"] == hub(source, "3.0")["rules"]
    assert hub(v3, "3.0")["rules"][0]["ride_start_allowed"] is True
    assert v3["global_rules"] == source["global_rules"]
    # 2.x asks whether a ride may start *and* end here
    assert hub(v2, "2.3")["rules"][0]["ride_allowed"] is False


# No recorded feed publishes system_alerts: this alert is made in the shape of GBFS 2.2
# (plain texts, POSIX times), served beside Lillestrøm's recorded files.
ALERT = {"alert_id": "a1", "type": "station_closure", "station_ids": ["1"],
         "times": [{"start": 1700000000, "end": 1700086400}],
         "url": "https://lillestrom.example/closure", "summary": "Stengt",
         "description": "Stasjonen er stengt i dag", "last_updated": 1699990000}


@pytest.mark.parametrize("version", ["2.3", "3.0"])
def test_an_alert_is_republished_with_its_times_and_texts(replay, add_feed, client,
                                                          db_conn, redis, version):
    gbfs = recorded("lillestrombysykkel", "gbfs")
    gbfs["data"]["nb"]["feeds"].append(
        {"name": "system_alerts", "url": f"{replay.url}/lillestrombysykkel/system_alerts.json"})
    for f in gbfs["data"]["nb"]["feeds"]:
        f["url"] = f"{replay.url}/lillestrombysykkel/" + f["url"].rsplit("/", 1)[-1]
    replay.override("/lillestrombysykkel/gbfs.json", json.dumps(gbfs).encode())
    replay.override("/lillestrombysykkel/system_alerts.json", json.dumps({
        "last_updated": 1699990000, "ttl": 60, "version": "2.2",
        "data": {"alerts": [ALERT]}}).encode())
    add_feed("mirror", f"{replay.url}/lillestrombysykkel/gbfs.json")
    poll(db_conn, redis, "mirror")
    alert = _republished(client, version, "system_alerts")["alerts"][0]
    assert _text(alert["summary"], version) == "Stengt"
    assert _text(alert["url"], version) == ALERT["url"]
    assert alert["station_ids"] == ["1"]
    assert alert["times"] == ([{"start": 1700000000, "end": 1700086400}] if version == "2.3"
                              else [{"start": "2023-11-14T22:13:20Z",
                                     "end": "2023-11-15T22:13:20Z"}])
    if version == "3.0":
        assert alert["summary"][0]["language"] == "nb"


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
