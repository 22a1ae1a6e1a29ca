"""The MQTT subscriber of sensor messages (paho-mqtt 2, MQTT 5).

- It subscribes to an allow-list of topic filters, each as an MQTT 5 shared subscription
  (``$share/<group>/<filter>``): several subscriber processes of one group split the
  messages, the broker giving each message to one of them.
- QoS 1 with manual acknowledgement: a message is acknowledged only once the batch that
  holds it is committed in PostgreSQL, so a subscriber that dies loses nothing (the broker
  sends what was not acknowledged again; the primary keys make a second delivery write
  nothing). A persistent session (clean_start false, an expiry) keeps messages for a
  subscriber that reconnects; paho reconnects with exponential backoff.
- paho's network thread only queues messages. A parser thread reads them in batches
  (everything queued at that moment, up to ``batch_size``) and hands each batch to a
  store thread, which writes it in one transaction (a COPY and a merge), acknowledges its
  messages and announces its values: PostgreSQL works on one batch while the next is
  parsed (the store thread waits on the database without the GIL), and ingest is bounded
  by a few statements per batch rather than a round trip per message.
- A message that cannot be used is counted with its reason and kept for operators
  (``sensor_invalid_messages``); no message, however malformed, stops the subscriber.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections import Counter
from dataclasses import dataclass, field

import orjson
import paho.mqtt.client as mqtt
import psycopg2
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from matching_and_import_db.live import sensor_store
from matching_and_import_db.live.uplinks import InvalidMessage, JsonMapping, parse_json, parse_tts

log = logging.getLogger(__name__)

HEALTH_KEY = "live:mqtt:subscribers"  # hash: subscriber name -> its health as JSON
HEALTH_EVERY = 1.0  # seconds between two health reports
SESSION_EXPIRY = 300  # seconds the broker keeps a disconnected subscriber's messages
QUEUE_LIMIT = 100_000  # messages waiting for the writer; paho's thread blocks past it
PARSED_AHEAD = 2  # parsed batches waiting for the store thread; the parser waits past it
ROUTE_CACHE = 10_000  # topics whose route is remembered (cleared when full)


@dataclass(frozen=True)
class Route:
    """A topic filter of the allow-list and how its messages are read."""
    filter: str
    format: str  # "tts" or the name of a JSON mapping
    mapping: JsonMapping | None = None

    def parse(self, payload: bytes):
        if self.mapping is None:
            return parse_tts(payload)
        return parse_json(payload, self.mapping)


def routes_of(topics: str, mappings: str) -> list[Route]:
    """``PORTAL_MQTT_TOPICS`` (``filter[=format]``, comma-separated; format ``tts`` by
    default or a mapping's name) with ``PORTAL_MQTT_MAPPINGS`` (JSON: name -> mapping)."""
    try:
        named = orjson.loads(mappings) if mappings.strip() else {}
    except orjson.JSONDecodeError as exc:
        raise ValueError(f"PORTAL_MQTT_MAPPINGS is not JSON: {exc.msg}") from None
    if not isinstance(named, dict):
        raise ValueError("PORTAL_MQTT_MAPPINGS must be a JSON object of mappings by name")
    routes = []
    for item in filter(None, (t.strip() for t in topics.split(","))):
        topic, _, fmt = item.partition("=")
        topic, fmt = topic.strip(), (fmt.strip() or "tts")
        if topic.startswith("$") or not topic:
            raise ValueError(f"PORTAL_MQTT_TOPICS: {item!r} is not a topic filter")
        if fmt == "tts":
            routes.append(Route(topic, fmt))
        elif fmt in named:
            try:
                routes.append(Route(topic, fmt, JsonMapping.of(named[fmt])))
            except (TypeError, ValueError) as exc:
                raise ValueError(f"PORTAL_MQTT_MAPPINGS[{fmt!r}]: {exc}") from None
        else:
            raise ValueError(f"PORTAL_MQTT_TOPICS: {topic!r} names format {fmt!r}, which is "
                             "neither tts nor a mapping of PORTAL_MQTT_MAPPINGS")
    return routes


@dataclass
class Stats:
    received: int = 0
    stored: int = 0  # uplinks committed
    invalid: int = 0
    batches: int = 0
    connected: bool = False
    reasons: Counter = field(default_factory=Counter)


class Subscriber:
    def __init__(self, routes: list[Route], connect, redis, *, host: str = "127.0.0.1",
                 port: int = 1883, group: str = "portal", name: str = "subscriber",
                 batch_size: int = 5000):
        if not routes:
            raise ValueError("no topic filters to subscribe to")
        self.routes = routes
        self.connect_db = connect
        self.redis = redis
        self.host, self.port, self.group, self.name = host, port, group, name
        self.batch_size = batch_size
        self.stats = Stats()
        self._queue: queue.Queue = queue.Queue(QUEUE_LIMIT)
        self._parsed: queue.Queue = queue.Queue(PARSED_AHEAD)
        self._route_of: dict[str, Route | None] = {}
        self._stopping = threading.Event()
        self._writer = threading.Thread(target=self._parse_loop, name="mqtt-parser",
                                        daemon=True)
        self._storer = threading.Thread(target=self._store_loop, name="mqtt-store",
                                        daemon=True)
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=name,
                                  protocol=mqtt.MQTTv5, manual_ack=True)
        self.client.reconnect_delay_set(min_delay=1, max_delay=30)
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.on_message = self._on_message

    # --- the network side (paho's thread) ---------------------------------------------------
    def start(self) -> None:
        props = Properties(PacketTypes.CONNECT)
        props.SessionExpiryInterval = SESSION_EXPIRY
        # async: a broker that is not up yet is retried with backoff, never a crash
        self.client.connect_async(self.host, self.port, keepalive=30, clean_start=False,
                                  properties=props)
        self._storer.start()
        self._writer.start()
        self.client.loop_start()

    def _on_connect(self, client, _userdata, _flags, reason_code, _properties):
        if reason_code.is_failure:
            log.warning("MQTT broker refused the connection: %s", reason_code)
            return
        self.stats.connected = True
        # subscribe on every connect: a new session after an expiry has no subscriptions
        client.subscribe([(f"$share/{self.group}/{r.filter}", 1) for r in self.routes])
        log.info("subscribed to %s as %s", ", ".join(r.filter for r in self.routes), self.name)

    def _on_disconnect(self, _client, _userdata, _flags, reason_code, _properties):
        self.stats.connected = False
        if not self._stopping.is_set():
            log.warning("MQTT connection lost (%s); reconnecting with backoff", reason_code)

    def _on_message(self, _client, _userdata, message):
        self._queue.put((message.topic, message.payload, message.mid, message.qos))

    # --- the parser and store threads --------------------------------------------------------
    def _parse_loop(self) -> None:
        last_health = 0.0
        try:
            while not (self._stopping.is_set() and self._queue.empty()):
                batch = self._take_batch()
                if time.monotonic() - last_health >= HEALTH_EVERY:
                    self._report_health()
                    last_health = time.monotonic()
                if not batch:
                    continue
                parsed = (batch, *self._parse(batch))
                while self._storer.is_alive():  # it ends early only when stopping
                    try:
                        self._parsed.put(parsed, timeout=0.5)
                        break
                    except queue.Full:
                        continue
                if not self._storer.is_alive():
                    return  # stopping with the database away: the broker sends them again
        finally:
            self._put_end()

    def _put_end(self) -> None:
        while self._storer.is_alive():
            try:
                self._parsed.put(None, timeout=0.5)
                return
            except queue.Full:
                continue

    def _store_loop(self) -> None:
        conn = None
        while (parsed := self._parsed.get()) is not None:
            batch, uplinks, refused = parsed
            while True:  # a batch is stored or retried, never dropped
                try:
                    if conn is None or conn.closed:
                        conn = self.connect_db()
                    devices = sensor_store.store_batch(conn, uplinks, refused)
                    break
                except (psycopg2.OperationalError, psycopg2.InterfaceError):
                    log.exception("storing %d sensor messages failed; retrying", len(batch))
                    conn = _discard(conn)
                    if self._stopping.wait(1.0):
                        return  # unacknowledged: the broker sends them again
                except Exception:  # the data, not the database: never retried for ever
                    log.exception("a batch of %d sensor messages could not be stored; "
                                  "storing them one by one", len(batch))
                    try:
                        conn.rollback()
                        devices, uplinks = self._store_one_by_one(conn, uplinks, refused)
                        break
                    except Exception:  # the database went too: retry the batch
                        log.exception("storing sensor messages one by one failed")
                        conn = _discard(conn)
                        if self._stopping.wait(1.0):
                            return
            for _topic, _payload, mid, qos in batch:
                if qos:
                    self.client.ack(mid, qos)
            self.stats.stored += len(uplinks)
            self.stats.batches += 1
            try:
                sensor_store.publish_latest(self.redis, uplinks, devices)
            except Exception:  # stored: the map catches up with the next message
                log.warning("could not publish the latest sensor values to Redis")
        if conn is not None:
            conn.close()

    def _store_one_by_one(self, conn, uplinks, refused):
        """After a batch failed on its data: each uplink alone; one that still fails is
        kept as refused with the error's name."""
        devices, kept, unstorable = {}, [], []
        for u in uplinks:
            try:
                devices.update(sensor_store.store_batch(conn, [u], []))
                kept.append(u)
            except Exception as exc:
                conn.rollback()
                reason = f"not storable: {type(exc).__name__}"
                self.stats.invalid += 1
                self.stats.reasons[reason] += 1
                unstorable.append(sensor_store.Refused(
                    "(batch)", reason, repr(u).encode()))
        sensor_store.store_batch(conn, [], refused + unstorable)
        return devices, kept

    def _take_batch(self) -> list:
        try:
            first = self._queue.get(timeout=0.2)
        except queue.Empty:
            return []
        batch = [first]
        while len(batch) < self.batch_size:
            try:
                batch.append(self._queue.get_nowait())
            except queue.Empty:
                break
        return batch

    def _parse(self, batch: list) -> tuple[list, list]:
        uplinks, refused = [], []
        for topic, payload, _mid, _qos in batch:
            self.stats.received += 1
            route = self._route(topic)
            try:
                if route is None:  # the broker sent what we did not ask for
                    raise InvalidMessage("topic not in the allow-list")
                uplinks.extend(route.parse(payload))
                continue
            except InvalidMessage as exc:
                reason = exc.reason
            except Exception as exc:  # a reader's bug must not take the subscriber down
                log.exception("unexpected error reading a message on %s", topic)
                reason = f"unreadable: {type(exc).__name__}"
            self.stats.invalid += 1
            self.stats.reasons[reason] += 1
            refused.append(sensor_store.Refused(topic, reason, payload))
        return uplinks, refused

    def _route(self, topic: str) -> Route | None:
        try:
            return self._route_of[topic]
        except KeyError:
            pass
        if len(self._route_of) >= ROUTE_CACHE:
            self._route_of.clear()
        route = self._route_of[topic] = next(
            (r for r in self.routes if mqtt.topic_matches_sub(r.filter, topic)), None)
        return route

    def _report_health(self) -> None:
        s = self.stats
        report = {"at": time.time(), "connected": s.connected, "received": s.received,
                  "stored": s.stored, "invalid": s.invalid, "queued": self._queue.qsize(),
                  "topics": [r.filter for r in self.routes]}
        try:
            self.redis.hset(HEALTH_KEY, self.name, orjson.dumps(report))
        except Exception:
            log.warning("could not report the subscriber's health to Redis")

    def stop(self, timeout: float = 30) -> None:
        """Store what is queued, then disconnect."""
        self._stopping.set()
        deadline = time.monotonic() + timeout
        self._writer.join(timeout)
        self._storer.join(max(0.0, deadline - time.monotonic()))
        self.client.disconnect()
        self.client.loop_stop()
        try:
            self.redis.hdel(HEALTH_KEY, self.name)
        except Exception:
            pass


def _discard(conn):
    if conn is not None and not conn.closed:
        try:
            conn.close()
        except Exception:
            pass
    return None


def subscriber_health(redis, max_age: float = 10.0) -> list[dict]:
    """The health reports of the subscribers alive now (reported within max_age)."""
    now = time.time()
    reports = []
    for name, raw in (redis.hgetall(HEALTH_KEY) or {}).items():
        report = orjson.loads(raw)
        if now - report.get("at", 0) <= max_age:
            reports.append({"name": name.decode() if isinstance(name, bytes) else name,
                            **report})
    return reports
