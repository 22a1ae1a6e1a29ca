"""Sensor uplinks stored: the registry, every measurement and signal reading in
PostgreSQL (a batch per statement), then the latest values of each device in the live
state (``live:state:sensors``) with a change event for the map.

PostgreSQL first: a value is only announced once it is stored, and a batch that fails to
commit is neither announced nor acknowledged to the broker (which then sends it again).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import orjson
from psycopg2.extras import Json, execute_values

from matching_and_import_db.copy import CopyPipe, encode_value
from matching_and_import_db.live import events
from matching_and_import_db.live.uplinks import KNOWN_UNITS, Uplink
from matching_and_import_db.sqlfiles import load_sql

LAYER = "sensors"
PACKAGE = "matching_and_import_db.live"
PAYLOAD_KEPT = 4096  # characters of an invalid message kept for operators
PAGE = 1000  # rows per INSERT of execute_values


@dataclass(frozen=True)
class Refused:
    """A message that could not be used, as it is kept for operators."""
    topic: str
    reason: str
    payload: bytes


@dataclass(frozen=True)
class Device:
    device_id: str
    name: str
    kind: str
    units: dict[str, str]
    position: tuple[float, float] | None


def store_batch(conn, uplinks: list[Uplink], refused: list[Refused]) -> dict[str, Device]:
    """Write a batch in one transaction (committed here); returns the devices it touched."""
    devices: dict[str, Device] = {}
    with conn.cursor() as cur:
        if uplinks:
            devices = _upsert_devices(cur, uplinks)
            _copy_series(cur, uplinks)
        if refused:
            execute_values(cur, _sql(cur, "insert_invalid_messages.sql"),
                           [(_text(r.topic[:512]), _text(r.reason),
                             _text(r.payload[:PAYLOAD_KEPT].decode("utf-8", "replace")))
                            for r in refused], page_size=PAGE)
    conn.commit()
    return devices


def _copy_series(cur, uplinks: list[Uplink]) -> None:
    """Measurements and signal readings by COPY (a batch is tens of thousands of rows),
    through temporary tables merged with ON CONFLICT DO NOTHING."""
    cur.execute(load_sql(PACKAGE, "create_incoming.sql"))
    with CopyPipe(cur, batch_rows=20_000) as pipe:
        values = pipe.table("incoming_measurements",
                            ("device_id", "measurement", "measured_at", "value"))
        signals = pipe.table("incoming_signals",
                             ("device_id", "received_at", "gateway", "rssi", "snr"))
        names: dict[str, str] = {}  # measurement and gateway names repeat: encoded once
        for u in uplinks:
            head = f"{encode_value(u.device_id)}\t"
            at = encode_value(u.received_at)
            for m, v in u.values.items():
                name = names.get(m)
                if name is None:
                    name = names[m] = encode_value(m)
                values.add_line(f"{head}{name}\t{at}\t{v!r}")
            for s in u.signals:
                gateway = names.get(s.gateway)
                if gateway is None:
                    gateway = names[s.gateway] = encode_value(s.gateway)
                signals.add_line(f"{head}{at}\t{gateway}\t{encode_value(s.rssi)}\t"
                                 f"{encode_value(s.snr)}")
    cur.execute(load_sql(PACKAGE, "merge_incoming.sql"))


def _upsert_devices(cur, uplinks: list[Uplink]) -> dict[str, Device]:
    # one row per device (ON CONFLICT may touch a row once per statement): its latest
    # name and position, the units of everything it sent
    rows: dict[str, list] = {}
    for u in sorted(uplinks, key=lambda u: u.received_at):
        units = {m: u.units.get(m) or KNOWN_UNITS.get(m, "") for m in u.values}
        row = rows.get(u.device_id)
        if row is None:
            rows[u.device_id] = [u.device_id, u.name or u.device_id, u.kind or "sensor",
                                 u.position, units, u.received_at, u.received_at]
        else:
            row[1] = u.name or row[1]
            row[2] = u.kind or row[2]
            row[3] = u.position or row[3]
            row[4] = {**row[4], **units}
            row[6] = u.received_at
    values = [(d, n, k, p[0] if p else None, p[1] if p else None, Json(units), first, last)
              for d, n, k, p, units, first, last in rows.values()]
    # ST_MakePoint(NULL, NULL) is NULL: a device that never said where it is
    result = execute_values(
        cur, _sql(cur, "upsert_devices.sql"), values, page_size=PAGE, fetch=True,
        template="(%s, %s, %s, ST_SetSRID(ST_MakePoint(%s, %s), 4326), %s, %s, %s)")
    return {r[0]: Device(r[0], r[1], r[2], r[3] or {},
                         (r[4], r[5]) if r[4] is not None else None) for r in result}


def publish_latest(redis, uplinks: list[Uplink], devices: dict[str, Device]) -> int:
    """The newest values of each device of the batch into the live state, merged with what
    it sent before (a device may send its measurements in turns); one event per device."""
    latest: dict[str, Uplink] = {}
    merged: dict[str, dict] = {}
    for u in sorted(uplinks, key=lambda u: u.received_at):
        latest[u.device_id] = u
        unit_of = devices[u.device_id].units if u.device_id in devices else {}
        values = merged.setdefault(u.device_id, {})
        at = u.received_at.isoformat().replace("+00:00", "Z")
        for m, v in u.values.items():
            values[m] = {"value": v, "unit": unit_of.get(m) or "", "at": at}
    if not latest:
        return 0
    ids = list(latest)
    before = redis.hmget(events.state_key(LAYER), ids)
    changes = []
    for device_id, old in zip(ids, before, strict=True):
        values = merged[device_id]
        if old:
            previous = orjson.loads(old)["properties"].get("values") or {}
            values = {**previous, **values}
        device = devices.get(device_id)
        u = latest[device_id]
        position = (device.position if device else None) or u.position
        props = {"device": device_id, "name": device.name if device else device_id,
                 "kind": device.kind if device else "sensor", "values": values,
                 "received_at": _iso(u.received_at)}
        geometry = {"type": "Point", "coordinates": list(position)} if position else None
        changes.append((device_id, props, geometry))
    events.publish_changes(redis, LAYER, changes)
    return len(changes)


def _text(value: str) -> str:
    """PostgreSQL text holds no NUL: a malformed message is kept with U+FFFD in its place."""
    return value.replace("\x00", "\ufffd")


def _iso(at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")


def _sql(cur, name: str) -> str:
    return load_sql(PACKAGE, name).as_string(cur)
