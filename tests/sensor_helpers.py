"""Sensor test helpers: the recorded uplinks, a subscriber on the real broker (Mosquitto
on 127.0.0.1:1883) with topics of the test's own, and a plain publisher."""

from __future__ import annotations

import gzip
import uuid
from contextlib import contextmanager

import paho.mqtt.client as mqtt
import psycopg2
import redis as redis_lib

from matching_and_import_db.live.mqtt_subscriber import Route, Subscriber
from matching_and_import_db.live.uplinks import JsonMapping
from tests.conftest import FIXTURES, wait_until

SENSORS = FIXTURES / "sensors"
BROKER = ("127.0.0.1", 1883)
# the CampusIoT recordings (plain JSON): where each field is
CAMPUSIOT = JsonMapping.of({
    "device": "dev_eui", "name": "name", "time": "_date", "values": "decoded.payload",
    "lat": "_devLocation.latitude", "lon": "_devLocation.longitude",
    "units": {"temperature": "°C", "humidity": "%", "vdd": "mV"},
    "signals": {"list": "hotspots", "gateway": "id", "rssi": "rssi", "snr": "snr"}})


def campusiot_lines(limit: int | None = None) -> list[bytes]:
    with gzip.open(SENSORS / "campusiot_TourPerret_ems_first300.ndjson.gz") as f:
        lines = [line.rstrip(b"\n") for line in f if line.strip()]
    return lines[:limit]


def unique_prefix() -> str:
    """Topics no other test (or engineer) on the shared broker publishes to."""
    return f"test-{uuid.uuid4().hex[:10]}"


@contextmanager
def running_subscriber(env: dict[str, str], routes: list[Route], group: str, name: str):
    redis = redis_lib.Redis.from_url(env["PORTAL_REDIS_URL"])
    sub = Subscriber(routes, lambda: psycopg2.connect(env["PORTAL_DATABASE_URL"]), redis,
                     host=BROKER[0], port=BROKER[1], group=group, name=name)
    sub.start()
    try:
        wait_until(lambda: sub.stats.connected, 20, message=f"{name} to connect")
        yield sub
    finally:
        sub.stop()


@contextmanager
def publisher():
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    client.connect(*BROKER)
    client.loop_start()
    try:
        yield client
    finally:
        client.disconnect()
        client.loop_stop()


def publish_all(client, items: list[tuple[str, bytes]]) -> None:
    """Publish at QoS 1 and wait until the broker has acknowledged every message."""
    infos = [client.publish(topic, payload, qos=1) for topic, payload in items]
    for info in infos:
        info.wait_for_publish(30)
