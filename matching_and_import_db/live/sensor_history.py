"""What the map's sensor panel shows: a device of the registry and its measurements over a
day or a week, one series per measurement."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from matching_and_import_db.errors import InputError, NotFound
from matching_and_import_db.sqlfiles import load_sql

PACKAGE = "matching_and_import_db.live"
PERIODS = {"day": timedelta(days=1), "week": timedelta(days=7)}


@dataclass(frozen=True)
class Series:
    measurement: str
    unit: str
    times: list[str]  # ISO UTC
    values: list[float]


@dataclass(frozen=True)
class DeviceHistory:
    device_id: str
    name: str
    kind: str
    position: tuple[float, float] | None
    period: str
    since: str
    series: list[Series]


def device_history(cur, device_id: str, period: str,
                   now: datetime | None = None) -> DeviceHistory:
    """The last day or week of a device, counted back from its newest message (a device
    that went quiet still shows its last period, not an empty chart)."""
    if period not in PERIODS:
        raise InputError(f"period must be one of {', '.join(PERIODS)}, got {period!r}")
    cur.execute(load_sql(PACKAGE, "sensor_device.sql"), {"device_id": device_id})
    row = cur.fetchone()
    if row is None:
        raise NotFound(f"no sensor {device_id!r}")
    _id, name, kind, units, lon, lat, _first, last_seen = row
    end = min(now or datetime.now(UTC), last_seen) if last_seen else now or datetime.now(UTC)
    since = end - PERIODS[period]
    cur.execute(load_sql(PACKAGE, "sensor_history.sql"),
                {"device_id": device_id, "since": since})
    series: dict[str, Series] = {}
    for measurement, at, value in cur.fetchall():
        s = series.get(measurement)
        if s is None:
            s = series[measurement] = Series(measurement, (units or {}).get(measurement, ""),
                                             [], [])
        s.times.append(_iso(at))
        s.values.append(value)
    return DeviceHistory(device_id, name, kind, None if lon is None else (lon, lat), period,
                         _iso(since), list(series.values()))


def _iso(at: datetime) -> str:
    return at.astimezone(UTC).isoformat().replace("+00:00", "Z")


@dataclass(frozen=True)
class RefusedReason:
    reason: str
    messages: int
    last_at: str


def refused_messages(cur, hours: int, now: datetime | None = None) -> list[RefusedReason]:
    """What operators see of the messages the subscriber could not use: how many, by
    reason, over the last hours (each one is kept in sensor_invalid_messages)."""
    since = (now or datetime.now(UTC)) - timedelta(hours=hours)
    cur.execute(load_sql(PACKAGE, "invalid_message_counts.sql"), {"since": since})
    return [RefusedReason(reason, count, _iso(last)) for reason, count, last in cur.fetchall()]
