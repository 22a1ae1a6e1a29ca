"""The sensor subscriber as a process of its own (the `sensors` role of entrypoint.sh):

    python -m scheduler.sensors

Why not a thread of the scheduler: the scheduler's jobs are long and CPU-bound (an OSM
import, map matching a day-long ride), and in one Python process they would hold the GIL
while messages wait; ingest must keep pace with the broker whatever else runs. As its own
process it is also scaled on its own: more replicas of one share group split the
messages (MQTT 5 shared subscriptions), and a crash of one costs nothing but a restart
(what it had not committed is sent again by the broker).

SIGTERM (or SIGINT) stores what is queued, then disconnects and exits 0.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import sys
import threading

import psycopg2
import redis as redis_lib

from matching_and_import_db.live.mqtt_subscriber import Subscriber
from matching_and_import_db.settings import Settings, SettingsError
from matching_and_import_db.settings.logging_setup import configure_logging

log = logging.getLogger("sensors")


def main() -> int:
    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    signal.signal(signal.SIGINT, lambda *_: stopping.set())
    try:
        settings = Settings.from_env()
    except SettingsError as exc:
        print(f"sensors: {exc}", file=sys.stderr)
        return 2
    configure_logging(settings, role="sensors")
    routes = settings.mqtt_routes
    if not routes:
        print("sensors: PORTAL_MQTT_TOPICS is empty: nothing to subscribe to", file=sys.stderr)
        return 2
    host, port = settings.mqtt_broker
    redis = redis_lib.Redis.from_url(settings.redis_url, socket_timeout=10)
    name = f"sensors-{socket.gethostname()}-{os.getpid()}"
    subscriber = Subscriber(routes, lambda: psycopg2.connect(settings.libpq_dsn), redis,
                            host=host, port=port, group=settings.mqtt_share_group, name=name)
    subscriber.start()
    log.info("sensor subscriber %s on %s:%d, group %s", name, host, port,
             settings.mqtt_share_group)
    stopping.wait()
    subscriber.stop()
    log.info("sensor subscriber %s stopped (%d stored, %d invalid)", name,
             subscriber.stats.stored, subscriber.stats.invalid)
    return 0


if __name__ == "__main__":
    sys.exit(main())
