"""Sensors over MQTT: the readers on real recorded uplinks, and the subscriber against the
real broker (storage, malformed messages, shared subscriptions)."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

import orjson
import pytest

from matching_and_import_db.live import events
from matching_and_import_db.live.mqtt_subscriber import Route, routes_of, subscriber_health
from matching_and_import_db.live.uplinks import InvalidMessage, parse_json, parse_tts
from tests.conftest import wait_until
from tests.sensor_helpers import (
    CAMPUSIOT,
    SENSORS,
    campusiot_lines,
    publish_all,
    publisher,
    running_subscriber,
    unique_prefix,
)


def test_tts_uplink_of_the_starter_kit_gives_values_signal_and_time():
    path = SENSORS / "tti-docs_starter-kit_mclimate-button_2025-04-16.json"
    [up] = parse_tts(path.read_bytes())
    assert up.device_id == "eui-70b3d52dd600035a"
    assert up.received_at == datetime(2025, 4, 16, 11, 54, 13, 995136, tzinfo=UTC)
    assert up.values == {"batteryVoltage": 3.4, "pressEvent": 1.0, "sensorTemperature": 21.5,
                         "singlePressEventCounter": 16.0, "thermistorProperlyConnected": 1.0}
    assert [(s.gateway, s.rssi, s.snr) for s in up.signals] == [("ttig-52ec", -31.0, 9.5)]
    assert up.kind == "mc-button"


def test_tts_uplink_inside_an_aws_iot_envelope_leaves_text_values_out():
    [up] = parse_tts((SENSORS / "tti-docs_aws-iot_tabs-motion-sensor_2020-01-15.json").read_bytes())
    assert up.device_id == "my-motion-sensor-1"
    assert "events" not in up.values  # "motion" is text, not a measurement
    assert up.values["temp"] == 6.0 and up.values["count"] == 226.0
    assert up.signals[0].gateway == "tektelic-1"


def test_storage_integration_list_gives_one_uplink_each_with_the_top_level_time():
    ups = parse_tts((SENSORS / "tti-docs_storage-retrieve_2021-02-04.json").read_bytes())
    assert [u.values for u in ups] == [{"occupied": 0.0}, {"occupied": 1.0}]
    assert ups[0].received_at.year == 2021  # not the uplink's 0001-01-01


@pytest.mark.parametrize("name, reason", [
    ("tti-docs_data-formats_uplink_INVALID-missing-comma.json", "not JSON"),
    ("tti-docs_ubidots_2021-07-08.json", "no end_device_ids.device_id"),
    ("thingsboard_Elsys_ERS2_CO2__payload.json", "no decoded_payload"),
])
def test_unusable_uplinks_are_refused_with_their_reason(name, reason):
    with pytest.raises(InvalidMessage) as err:
        parse_tts((SENSORS / name).read_bytes())
    assert err.value.reason.startswith(reason)


def test_tts_location_becomes_the_position():
    # the data-formats example with its upstream typo mended: its `locations` are read
    text = (SENSORS / "tti-docs_data-formats_uplink_INVALID-missing-comma.json").read_text()
    fixed = text.replace('}\n    "received_at" : ', '},\n    "received_at" : ')
    [up] = parse_tts(fixed.encode())
    assert up.position == pytest.approx((23.72678801175413, 37.97155556731436))


def test_plain_json_with_a_mapping_reads_the_campusiot_recording():
    ups = [u for line in campusiot_lines(5) for u in parse_json(line, CAMPUSIOT)]
    assert [u.values["temperature"] for u in ups[:2]] == [7.0, 7.1]  # the file's first two
    first = ups[0]
    assert first.device_id == "A81758FFFE04B1C1"
    assert first.name == "ELSYS_EMS_B1C1_PERRET_SOO"
    assert first.received_at == datetime(2023, 1, 4, 21, 31, 22, 661000, tzinfo=UTC)
    assert first.position == pytest.approx((5.7403564453125, 45.18402099609375))
    assert first.units["temperature"] == "°C"


@pytest.mark.parametrize("payload, reason", [
    (b"", "not JSON"),
    (b"\xff\xfe garbage", "not JSON"),
    (b"[1, 2]", "not an uplink"),
    (b'{"uplink_message": {}}', "no end_device_ids"),
    (b'{"end_device_ids": {"device_id": "d"}, "uplink_message": {"decoded_payload": {"t": 1}}}',
     "no received_at"),
    (b'{"end_device_ids": {"device_id": "d"}, "received_at": "yesterday",'
     b' "uplink_message": {"decoded_payload": {"t": 1}}}', "received_at is not an RFC 3339"),
    (b'{"end_device_ids": {"device_id": "d"}, "received_at": "2999-01-01T00:00:00Z",'
     b' "uplink_message": {"decoded_payload": {"t": 1}}}', "received_at in the future"),
    (b'{"end_device_ids": {"device_id": "d"}, "received_at": "2024-01-01T00:00:00Z",'
     b' "uplink_message": {"decoded_payload": {"t": "warm"}}}', "no numeric measurement"),
])
def test_malformed_tts_messages_say_what_is_wrong(payload, reason):
    with pytest.raises(InvalidMessage) as err:
        parse_tts(payload)
    assert err.value.reason.startswith(reason)


def test_topic_allow_list_and_mappings_from_settings():
    routes = routes_of("v3/+/devices/+/up, campus/#=campusiot",
                       '{"campusiot": {"device": "dev_eui", "time": "_date", '
                       '"values": "decoded.payload"}}')
    assert [(r.filter, r.format) for r in routes] == [("v3/+/devices/+/up", "tts"),
                                                       ("campus/#", "campusiot")]
    with pytest.raises(ValueError, match="neither tts nor a mapping"):
        routes_of("a/#=nope", "")
    with pytest.raises(ValueError, match="needs values"):
        routes_of("a/#=m", '{"m": {"device": "d", "time": "t"}}')


def _count(db_conn, table: str) -> int:
    with db_conn.cursor() as cur:
        cur.execute(f"SELECT count(*) FROM {table}")  # table: a constant of this test
        return cur.fetchone()[0]


def test_subscriber_stores_every_measurement_signal_and_the_latest_state(settings_env, db_conn,
                                                                         redis):
    prefix = unique_prefix()
    starter = (SENSORS / "tti-docs_starter-kit_mclimate-button_2025-04-16.json").read_bytes()
    lines = campusiot_lines(50)
    routes = [Route(f"{prefix}/tts/#", "tts"), Route(f"{prefix}/campus/#", "campusiot", CAMPUSIOT)]
    with running_subscriber(settings_env, routes, prefix, f"{prefix}-a") as sub, publisher() as pub:
        publish_all(pub, [(f"{prefix}/tts/up", starter)]
                    + [(f"{prefix}/campus/ems", line) for line in lines])
        wait_until(lambda: sub.stats.stored == 51, 30, message="51 uplinks stored")
        wait_until(lambda: redis.hlen(events.state_key("sensors")) == 2, 10,
                   message="the latest state of both devices")
        health = wait_until(lambda: [h for h in subscriber_health(redis) if h["stored"] == 51],
                            10, message="the subscriber's health report")
    values = sum(len(u.values) for line in lines for u in parse_json(line, CAMPUSIOT))
    assert _count(db_conn, "sensor_measurements") == values + 5
    heard = sum(len(u.signals) for line in lines for u in parse_json(line, CAMPUSIOT))
    assert heard >= 50
    assert _count(db_conn, "sensor_signals") == heard + 1  # the starter kit: one gateway
    with db_conn.cursor() as cur:
        cur.execute("SELECT name, units->>'temperature', ST_X(geom) FROM sensor_devices "
                    "WHERE device_id = 'A81758FFFE04B1C1'")
        assert cur.fetchone() == ("ELSYS_EMS_B1C1_PERRET_SOO", "°C", pytest.approx(5.74035645))
    state = orjson.loads(redis.hget(events.state_key("sensors"), "A81758FFFE04B1C1"))
    newest = parse_json(lines[-1], CAMPUSIOT)[0]
    assert state["properties"]["values"]["temperature"] == {
        "value": newest.values["temperature"], "unit": "°C",
        "at": newest.received_at.isoformat().replace("+00:00", "Z")}
    assert state["geometry"]["type"] == "Point"
    assert health[0]["connected"] and health[0]["invalid"] == 0


def test_a_burst_of_malformed_messages_is_counted_and_kept_and_the_subscriber_goes_on(
        settings_env, db_conn):
    prefix = unique_prefix()
    bad = [b"", b"{", b"null", b"[]", b'{"uplink_message": 1}', b"\x00" * 100,
           b'{"end_device_ids": {"device_id": "d"}, "received_at": "2999-01-01T00:00:00Z",'
           b' "uplink_message": {"decoded_payload": {"t": 1}}}',
           (SENSORS / "tti-docs_data-formats_uplink_INVALID-missing-comma.json").read_bytes(),
           b'{"a": ' * 5000]
    good = (SENSORS / "tti-docs_starter-kit_mclimate-button_2025-04-16.json").read_bytes()
    burst = [(f"{prefix}/up", bad[i % len(bad)]) for i in range(450)] + [(f"{prefix}/up", good)]
    with running_subscriber(settings_env, [Route(f"{prefix}/#", "tts")], prefix,
                            f"{prefix}-a") as sub, publisher() as pub:
        publish_all(pub, burst)
        wait_until(lambda: sub.stats.received == 451, 30, message="the whole burst read")
        wait_until(lambda: sub.stats.stored == 1, 10, message="the good message stored")
        assert sub._writer.is_alive()
        reasons = dict(sub.stats.reasons)
    assert sum(reasons.values()) == 450
    assert reasons["not JSON: Input is a zero-length, empty document at character 0"] == 50
    assert reasons["an empty list: no uplink"] == 50
    assert any(r.startswith("not JSON: depth limit exceeded") for r in reasons)
    assert any(r.startswith("received_at in the future") for r in reasons)
    assert any(r.startswith("not an uplink") for r in reasons)
    wait_until(lambda: _count(db_conn, "sensor_invalid_messages") == 450, 10,
               message="every refused message kept")
    with db_conn.cursor() as cur:
        cur.execute("SELECT reason, count(*) FROM sensor_invalid_messages GROUP BY reason")
        assert dict(cur.fetchall()) == reasons


def test_two_subscribers_of_one_share_group_split_the_messages_and_write_each_once(
        settings_env, db_conn):
    prefix = unique_prefix()
    lines = campusiot_lines(300)
    routes = [Route(f"{prefix}/#", "campusiot", CAMPUSIOT)]
    with running_subscriber(settings_env, routes, prefix, f"{prefix}-a") as a, \
            running_subscriber(settings_env, routes, prefix, f"{prefix}-b") as b, \
            publisher() as pub:
        publish_all(pub, [(f"{prefix}/ems", line) for line in lines])
        wait_until(lambda: a.stats.received + b.stats.received >= 300, 30,
                   message="every message delivered")
        wait_until(lambda: a.stats.stored + b.stats.stored == 300, 30, message="all stored")
        assert a.stats.received + b.stats.received == 300  # none twice
        assert a.stats.received > 0 and b.stats.received > 0  # both took a share
    values = sum(len(u.values) for line in lines for u in parse_json(line, CAMPUSIOT))
    assert _count(db_conn, "sensor_measurements") == values


@pytest.mark.parametrize("file, mapping", [
    ("TourPerret_ems-tourperret-A81758FFFE04B1C1.ndjson.gz", "campusiot_helium"),
    ("SaintEynard_logs_d1d1e80000000033_campusiot.ndjson.gz", "campusiot_chirpstack"),
])
def test_the_demo_mappings_read_every_recorded_message_of_the_demo_replay(file, mapping):
    import gzip
    import json

    from matching_and_import_db.live.uplinks import JsonMapping
    from tests.conftest import ROOT
    mappings = json.loads((ROOT / "demo" / "sensors" / "mappings.json").read_text())
    reader = JsonMapping.of(mappings[mapping])
    read, reasons = 0, set()
    with gzip.open(ROOT / "demo" / "sensors" / file) as f:
        for line in itertools.islice(f, 2000):
            try:
                [up] = parse_json(line, reader)
                read += 1
                assert up.values and up.signals
            except InvalidMessage as exc:
                reasons.add(exc.reason)
    # what is refused is what holds no reading: the Chirpstack log's status messages
    # (battery, margin), an EMS frame decoded to an empty payload
    assert read >= 1940
    assert reasons <= {f"no measurements (an object) at {reader.values}",
                       "no numeric measurement in the payload"}


def test_a_message_the_database_refuses_is_kept_as_refused_and_the_rest_is_stored(
        settings_env, db_conn):
    # a unit with a NUL, which jsonb cannot hold, fails its batch in PostgreSQL: the
    # batch is stored one by one, that message kept as refused, and the writer goes on
    from matching_and_import_db.live.uplinks import JsonMapping
    prefix = unique_prefix()
    bad_units = JsonMapping.of({"device": "dev_eui", "time": "_date", "values": "decoded.payload",
                                "units": {"temperature": "°C\x00"}})
    routes = [Route(f"{prefix}/bad/#", "bad", bad_units),
              Route(f"{prefix}/good/#", "campusiot", CAMPUSIOT)]
    lines = campusiot_lines(20)
    # a device of its own, so that its registry row (with the bad unit) must be written
    # whatever the batches hold: with the good messages' device its row could be theirs
    bad = orjson.loads(lines[0])
    bad["dev_eui"] = f"{prefix}-bad-device"
    with running_subscriber(settings_env, routes, prefix, f"{prefix}-a") as sub, \
            publisher() as pub:
        publish_all(pub, [(f"{prefix}/bad/x", orjson.dumps(bad))]
                    + [(f"{prefix}/good/x", line) for line in lines[1:]])
        wait_until(lambda: sub.stats.stored + sub.stats.invalid == 20, 30,
                   message="every message stored or refused")
        assert sub._writer.is_alive()
        reasons = dict(sub.stats.reasons)
    assert sub.stats.stored == 19
    [(reason, count)] = reasons.items()
    assert reason.startswith("not storable: ") and count == 1
    with db_conn.cursor() as cur:
        cur.execute("SELECT reason FROM sensor_invalid_messages")
        assert [r for (r,) in cur.fetchall()] == [reason]


def test_operators_see_the_refused_messages_by_reason_and_others_get_404(
        client, db_conn, oidc_provider):
    from tests.conftest import login
    with db_conn.cursor() as cur:
        cur.execute("INSERT INTO sensor_invalid_messages (topic, reason, payload) VALUES "
                    "('a', 'not JSON: x', '{'), ('a', 'not JSON: x', '['), "
                    "('b', 'no decoded_payload', '{}')")
    db_conn.commit()
    assert client.get("/api/live/sensors/refused").status_code == 401
    login(client, oidc_provider, "rider", ["user"])
    assert client.get("/api/live/sensors/refused").status_code == 404
    login(client, oidc_provider, "ops", ["operator"])
    body = client.get("/api/live/sensors/refused?hours=2").get_json()
    assert [(r["reason"], r["messages"]) for r in body["reasons"]] == [
        ("not JSON: x", 2), ("no decoded_payload", 1)]
    assert client.get("/api/live/sensors/refused?hours=0").status_code == 400
