#!/usr/bin/env python3
"""The demo's sensors: replays real recorded LoRaWAN uplinks (CampusIoT, Grenoble; see
demo/ATTRIBUTION.md) into the local MQTT broker, as a sensor network would send them.

The values are as recorded. Two things are changed so that they show on the demo map and
in its charts: each device is placed in Oslo (the demo area), and times are shifted so
that the replay starts with the last week of recordings ending now, then sends the next
recorded message of each device every --interval seconds, stamped with the time it is sent.

    python demo/sensor_replay.py [--interval 5] [--broker 127.0.0.1:1883] [--once]
"""

from __future__ import annotations

import argparse
import gzip
import itertools
import json
import os
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import paho.mqtt.client as mqtt
import redis as redis_lib

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from matching_and_import_db.live.mqtt_subscriber import subscriber_health  # noqa: E402

HERE = Path(__file__).resolve().parent / "sensors"
BACKFILL = timedelta(days=7)


@dataclass(frozen=True)
class Recording:
    file: str
    topic: str  # the portal subscribes to these with the mapping in sensors/mappings.json
    place: tuple[float, float]  # where the demo puts the device (lon, lat), in Oslo


RECORDINGS = (
    Recording("TourPerret_ems-tourperret-A81758FFFE04B1C1.ndjson.gz",
              "demo/helium/A81758FFFE04B1C1", (10.7794, 59.9160)),
    Recording("SaintEynard_logs_d1d1e80000000033_campusiot.ndjson.gz",
              "demo/chirpstack/d1d1e80000000033", (10.7722, 59.9127)),
)
TOPICS = "demo/helium/+=campusiot_helium,demo/chirpstack/+=campusiot_chirpstack"


def read(rec: Recording) -> list[dict]:
    with gzip.open(HERE / rec.file) as f:
        return [json.loads(line) for line in f if line.strip()]


def stamped(message: dict, rec: Recording, at: datetime) -> bytes:
    out = dict(message)
    out["_date"] = at.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    out["_devLocation"] = {**(message.get("_devLocation") or {}),
                           "longitude": rec.place[0], "latitude": rec.place[1]}
    return json.dumps(out).encode()


def recorded_at(message: dict) -> datetime:
    return datetime.fromisoformat(message["_date"].replace("Z", "+00:00"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--broker", default="127.0.0.1:1883")
    parser.add_argument("--interval", type=float, default=5.0)
    parser.add_argument("--once", action="store_true", help="only the week's backfill")
    parser.add_argument("--redis", default=os.environ.get("PORTAL_REDIS_URL",
                                                          "redis://127.0.0.1:6379/0"))
    args = parser.parse_args()
    # a shared subscription drops what is published while no subscriber is connected:
    # wait for the portal's (it reports its health in Redis)
    redis = redis_lib.Redis.from_url(args.redis)
    deadline = time.monotonic() + 300
    while not any(s["connected"] for s in subscriber_health(redis)):
        if time.monotonic() > deadline:
            print("sensor replay: no sensor subscriber connected after 5 min", file=sys.stderr)
            return 1
        time.sleep(1)
    host, _, port = args.broker.partition(":")
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    client.reconnect_delay_set(1, 30)
    client.connect_async(host, int(port or 1883))
    client.loop_start()
    now = datetime.now(UTC)
    streams = []
    for rec in RECORDINGS:
        messages = read(rec)
        start = recorded_at(messages[0])
        week = [m for m in messages if recorded_at(m) - start <= BACKFILL]
        shift = now - recorded_at(week[-1])
        for m in week:  # the last recorded week, ending now
            client.publish(rec.topic, stamped(m, rec, recorded_at(m) + shift), qos=1)
        rest = messages[len(week):] + messages[:len(week)]
        streams.append((rec, itertools.cycle(rest)))
        print(f"sensor replay: {len(week)} messages of {rec.topic} (a week) sent",
              file=sys.stderr)
    if args.once:
        time.sleep(2)  # let paho's thread hand the last messages to the broker
        client.loop_stop()
        return 0
    while True:
        time.sleep(args.interval)
        for rec, messages in streams:
            client.publish(rec.topic, stamped(next(messages), rec, datetime.now(UTC)), qos=1)


if __name__ == "__main__":
    sys.exit(main())
