"""The live stream through the web process as start.sh runs it (nginx in front of the
asyncio stream server): snapshot, changes as they happen, resume with Last-Event-ID, and
a sensor's history for the map's panel."""

from __future__ import annotations

import orjson
import pytest
import requests

from matching_and_import_db.live import events
from matching_and_import_db.live.sensor_store import LAYER as SENSORS

STATION = {"feed": "oslobysykkel", "station_id": "2350", "name": "Blindern T-bane",
           "capacity": 12, "num_bikes_available": 5, "num_docks_available": 7,
           "is_renting": True, "is_returning": True,
           "last_reported": "2025-06-02T10:00:00Z", "stale": False, "stale_reason": None}
POINT = {"type": "Point", "coordinates": [10.7197, 59.9401]}


class EventStream:
    """A Server-Sent Events client over requests (what a browser's EventSource does)."""

    def __init__(self, url: str, last_event_id: str | None = None):
        headers = {"Accept": "text/event-stream"}
        if last_event_id:
            headers["Last-Event-ID"] = last_event_id
        self.resp = requests.get(url, headers=headers, stream=True, timeout=(5, 20))
        self.lines = self.resp.iter_lines(decode_unicode=True)

    def next_event(self) -> dict:
        """The next event (comments and retry lines skipped); fails after the read timeout."""
        event: dict = {}
        for line in self.lines:
            if line == "":
                if "data" in event:
                    event["data"] = orjson.loads(event["data"])
                    return event
                event = {}
                continue
            if line.startswith(":"):
                continue
            name, _, value = line.partition(": ")
            event[name] = event.get(name, "") + value if name == "data" else value
        raise AssertionError("the stream ended")

    def close(self) -> None:
        self.resp.close()


@pytest.fixture
def web(module_web):
    return module_web


def test_stream_sends_a_snapshot_then_changes_then_resumes_after_a_reconnect(web, redis):
    events.publish_change(redis, "gbfs_stations", "oslobysykkel:2350", STATION, POINT)
    url = f"{web.url}/api/live/stream?layers=gbfs_stations,sensors"
    first = EventStream(url)
    assert first.resp.headers["Content-Type"].startswith("text/event-stream")
    snap = first.next_event()
    assert snap["event"] == "snapshot"
    [station] = snap["data"]["layers"]["gbfs_stations"]
    assert station["id"] == "oslobysykkel:2350"
    assert station["properties"]["num_bikes_available"] == 5
    assert snap["data"]["layers"]["sensors"] == []

    change_id = events.publish_change(redis, "gbfs_stations", "oslobysykkel:2350",
                                      {**STATION, "num_bikes_available": 0}, POINT)
    change = first.next_event()  # through nginx at once: it buffers nothing of the stream
    assert (change["event"], change["id"]) == ("change", change_id)
    assert change["data"]["feature"]["properties"]["num_bikes_available"] == 0
    first.close()

    # while the browser is away: two changes, one on a layer it did not ask for
    events.publish_change(redis, "gbfs_vehicles", "oslobysykkel:v1", {"feed": "oslobysykkel"})
    missed = events.publish_change(redis, "gbfs_stations", "oslobysykkel:2350",
                                   {**STATION, "num_bikes_available": 3}, POINT)
    gone = events.publish_removal(redis, "gbfs_stations", "oslobysykkel:2350")
    again = EventStream(url, last_event_id=change_id)
    resumed = again.next_event()
    assert (resumed["event"], resumed["id"]) == ("change", missed)  # no snapshot, no vehicle
    assert resumed["data"]["feature"]["properties"]["num_bikes_available"] == 3
    removal = again.next_event()
    assert removal["id"] == gone and removal["data"] == {"layer": "gbfs_stations",
                                                         "removed": "oslobysykkel:2350"}
    again.close()


def test_a_resume_from_an_id_the_stream_no_longer_holds_gets_a_fresh_snapshot(web, redis):
    events.publish_change(redis, SENSORS, "dev1", {"device": "dev1", "values": {}})
    redis.xtrim(events.EVENTS, maxlen=0)  # trimmed away, as the cap does after a while
    events.publish_change(redis, SENSORS, "dev2", {"device": "dev2", "values": {}})
    stream = EventStream(f"{web.url}/api/live/stream?layers=sensors", last_event_id="1-0")
    snap = stream.next_event()
    stream.close()
    assert snap["event"] == "snapshot"
    assert sorted(f["id"] for f in snap["data"]["layers"]["sensors"]) == ["dev1", "dev2"]


def test_an_unknown_layer_is_a_400_naming_it(web):
    resp = requests.get(f"{web.url}/api/live/stream?layers=gbfs_stations,secret_rides",
                        timeout=10)
    assert resp.status_code == 400
    assert "secret_rides" in resp.json()["error"]["message"]


def test_sensor_history_for_a_day_and_a_week(client, db_conn):
    with db_conn.cursor() as cur:
        cur.execute("INSERT INTO sensor_devices (device_id, name, units, geom, last_seen) "
                    "VALUES ('ems', 'EMS Tour Perret', '{\"temperature\": \"°C\"}', "
                    "ST_SetSRID(ST_MakePoint(5.74, 45.18), 4326), '2023-01-08T12:00:00Z')")
        cur.execute("INSERT INTO sensor_measurements (device_id, measurement, measured_at, value)"
                    " VALUES ('ems', 'temperature', '2023-01-08T11:00:00Z', 7.5),"
                    " ('ems', 'temperature', '2023-01-03T11:00:00Z', 5.0),"
                    " ('ems', 'humidity', '2023-01-08T11:30:00Z', 80)")
    db_conn.commit()
    day = client.get("/api/live/sensors/ems/history?period=day").get_json()
    assert day["name"] == "EMS Tour Perret" and day["position"] == [5.74, 45.18]
    series = {s["measurement"]: s for s in day["series"]}
    assert series["temperature"]["values"] == [7.5]
    assert series["temperature"]["unit"] == "°C"
    assert series["humidity"]["times"] == ["2023-01-08T11:30:00Z"]
    week = client.get("/api/live/sensors/ems/history?period=week").get_json()
    assert {s["measurement"]: s["values"] for s in week["series"]}["temperature"] == [5.0, 7.5]
    bad = client.get("/api/live/sensors/ems/history?period=year")
    assert bad.status_code == 400 and "period" in bad.get_json()["error"]["message"]
    assert client.get("/api/live/sensors/nope/history").status_code == 404
