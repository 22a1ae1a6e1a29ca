"""Sensor messages read into uplinks: The Things Stack v3 uplink messages, and plain JSON
read through a configured mapping. Every way a message can be unusable raises
``InvalidMessage`` with a reason an operator can act on; nothing else escapes."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import NamedTuple

import orjson

MAX_MEASUREMENTS = 100  # per message: a payload with more is not a sensor reading
MAX_NAME = 64  # characters of a device id or a measurement name
MAX_FUTURE = timedelta(minutes=5)  # clocks drift; an hour ahead is a broken clock
CONTROL = re.compile("[\x00-\x1f]")  # characters below 32

# units of the measurement names devices commonly send, when the registry knows none
KNOWN_UNITS = {
    "temperature": "°C", "temp": "°C", "sensorTemperature": "°C", "humidity": "%",
    "relativeHumidity": "%", "pressure": "hPa", "battery": "V", "batteryVoltage": "V",
    "voltage": "V", "bat_percentage": "%", "co2": "ppm", "light": "lx", "luminosity": "lx",
    "vdd": "mV", "pm2_5": "µg/m³", "pm10": "µg/m³", "noise": "dB", "sound": "dB",
}


class InvalidMessage(ValueError):
    """A message that cannot be stored; ``reason`` says why."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class Signal(NamedTuple):
    """How one gateway heard an uplink (a tuple: a message has several, built by the
    thousand a second)."""
    gateway: str
    rssi: float | None
    snr: float | None


@dataclass(frozen=True)
class Uplink:
    device_id: str
    received_at: datetime
    values: dict[str, float]
    name: str | None = None
    kind: str | None = None
    position: tuple[float, float] | None = None  # lon, lat
    units: dict[str, str] = field(default_factory=dict)
    signals: tuple[Signal, ...] = ()


@dataclass(frozen=True)
class JsonMapping:
    """Where a plain JSON message keeps each field, as dotted paths (``decoded.payload``)."""
    device: str
    time: str
    values: str
    name: str | None = None
    lat: str | None = None
    lon: str | None = None
    kind: str | None = None
    units: dict[str, str] = field(default_factory=dict)
    # radio diagnostics: {"list": path of the list, "gateway": key, "rssi": key, "snr": key}
    signals: dict[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, config: dict) -> JsonMapping:
        missing = [k for k in ("device", "time", "values") if not config.get(k)]
        if missing:
            raise ValueError(f"a JSON mapping needs {', '.join(missing)}")
        unknown = set(config) - set(cls.__dataclass_fields__)
        if unknown:
            raise ValueError(f"unknown mapping keys: {', '.join(sorted(unknown))}")
        return cls(**config)


def decode(payload: bytes) -> object:
    try:
        return orjson.loads(payload)
    except orjson.JSONDecodeError as exc:
        raise InvalidMessage(f"not JSON: {exc.msg} at character {exc.pos}") from None


def parse_tts(payload: bytes, now: datetime | None = None) -> list[Uplink]:
    """A The Things Stack v3 uplink; also inside an AWS IoT envelope (``payload``) and as
    the Storage Integration's list or ``{"result": ...}`` lines."""
    doc = decode(payload)
    now = now or datetime.now(UTC)
    if isinstance(doc, list):
        if not doc:
            raise InvalidMessage("an empty list: no uplink")
        return [_tts_uplink(d, now) for d in doc]
    if isinstance(doc, dict) and isinstance(doc.get("result"), dict):
        doc = doc["result"]
    if isinstance(doc, dict) and isinstance(doc.get("payload"), dict) and "uplink_message" \
            not in doc:
        doc = doc["payload"]
    return [_tts_uplink(doc, now)]


def _tts_uplink(doc: object, now: datetime) -> Uplink:
    if not isinstance(doc, dict):
        raise InvalidMessage("not an uplink message (expected a JSON object)")
    up = doc.get("uplink_message")
    if not isinstance(up, dict):
        raise InvalidMessage("no uplink_message")
    device = _path(doc, "end_device_ids.device_id")
    if not isinstance(device, str) or not device:
        raise InvalidMessage("no end_device_ids.device_id")
    decoded = up.get("decoded_payload")
    if not isinstance(decoded, dict):
        raise InvalidMessage("no decoded_payload (add a payload formatter for the device)")
    received = _time(doc.get("received_at") or up.get("received_at"), "received_at", now)
    signals = tuple(
        Signal(str(_path(m, "gateway_ids.gateway_id") or "?")[:MAX_NAME],
               _number_or_none(m.get("rssi")), _number_or_none(m.get("snr")))
        for m in up.get("rx_metadata") or () if isinstance(m, dict))
    position = None
    locations = up.get("locations")
    if isinstance(locations, dict) and locations:
        first = locations.get("user") or next(iter(locations.values()))
        if isinstance(first, dict):
            position = _position(first.get("longitude"), first.get("latitude"))
    kind = _path(up, "version_ids.model_id")
    return Uplink(device_id=_name(device, "device id"), received_at=received,
                  values=_values(decoded), kind=_label(kind),
                  position=position, signals=signals)


def parse_json(payload: bytes, mapping: JsonMapping, now: datetime | None = None) -> list[Uplink]:
    """A plain JSON object read through ``mapping``."""
    doc = decode(payload)
    if not isinstance(doc, dict):
        raise InvalidMessage("not a JSON object")
    now = now or datetime.now(UTC)
    device = _path(doc, mapping.device)
    if not isinstance(device, (str, int)) or isinstance(device, bool) or device == "":
        raise InvalidMessage(f"no device id at {mapping.device}")
    values = _path(doc, mapping.values)
    if not isinstance(values, dict):
        raise InvalidMessage(f"no measurements (an object) at {mapping.values}")
    name = _path(doc, mapping.name) if mapping.name else None
    kind = _path(doc, mapping.kind) if mapping.kind else None
    position = None
    if mapping.lat and mapping.lon:
        position = _position(_path(doc, mapping.lon), _path(doc, mapping.lat))
    return [Uplink(device_id=_name(str(device), "device id"),
                   received_at=_time(_path(doc, mapping.time), mapping.time, now),
                   values=_values(values), name=_label(name), kind=_label(kind),
                   position=position,
                   units=dict(mapping.units), signals=_mapped_signals(doc, mapping.signals))]


def _mapped_signals(doc: dict, keys: dict[str, str]) -> tuple[Signal, ...]:
    heard = _path(doc, keys["list"]) if keys.get("list") else None
    if not isinstance(heard, list):
        return ()
    return tuple(Signal(str(h.get(keys.get("gateway", "gateway")) or "?")[:MAX_NAME],
                        _number_or_none(h.get(keys.get("rssi", "rssi"))),
                        _number_or_none(h.get(keys.get("snr", "snr"))))
                 for h in heard if isinstance(h, dict))


def _path(doc: object, dotted: str) -> object:
    for part in dotted.split("."):
        if not isinstance(doc, dict):
            return None
        doc = doc.get(part)
    return doc


def _name(text: str, what: str) -> str:
    if len(text) > MAX_NAME or CONTROL.search(text):
        raise InvalidMessage(f"{what} longer than {MAX_NAME} characters or with control "
                             "characters")
    return text


def _label(value: object) -> str | None:
    """A device's name or kind as given, without control characters, at most 200 long."""
    if not isinstance(value, str):
        return None
    text = CONTROL.sub("", value)[:200].strip()
    return text or None


def _values(decoded: dict) -> dict[str, float]:
    """The numeric measurements (a bool counts as 0/1; text such as "motion" is not a
    measurement and is left out)."""
    if len(decoded) > MAX_MEASUREMENTS:
        raise InvalidMessage(f"more than {MAX_MEASUREMENTS} measurements")
    values: dict[str, float] = {}
    for key, value in decoded.items():
        if isinstance(value, bool):
            value = float(value)
        if not isinstance(value, (int, float)) or not math.isfinite(value) \
                or key.startswith("_"):
            continue
        values[_name(key, "measurement name")] = float(value)
    if not values:
        raise InvalidMessage("no numeric measurement in the payload")
    return values


def _number_or_none(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) else None


def _position(lon: object, lat: object) -> tuple[float, float] | None:
    lon, lat = _number_or_none(lon), _number_or_none(lat)
    if lon is None or lat is None:
        return None
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        raise InvalidMessage(f"position out of range: lon {lon}, lat {lat}")
    return (lon, lat)


def _time(value: object, what: str, now: datetime) -> datetime:
    if isinstance(value, bool):
        value = None
    if isinstance(value, (int, float)) and math.isfinite(value):
        # epoch seconds or milliseconds
        seconds = value / 1000 if value > 1e11 else value
        try:
            at = datetime.fromtimestamp(seconds, UTC)
        except (OverflowError, OSError, ValueError):
            raise InvalidMessage(f"{what} is not a time: {value!r}") from None
    elif isinstance(value, str) and value:
        at = _iso(value, what)
    else:
        raise InvalidMessage(f"no {what}")
    if at.year < 2000:
        raise InvalidMessage(f"{what} before 2000: {value}")
    if at > now + MAX_FUTURE:
        raise InvalidMessage(f"{what} in the future: {value}")
    return at


def _iso(text: str, what: str) -> datetime:
    """RFC 3339 with any number of fraction digits (The Things Stack sends nanoseconds)."""
    try:  # most times as they come (Python 3.11 reads "Z" and long fractions)
        at = datetime.fromisoformat(text)
        if at.tzinfo is not None:
            return at.astimezone(UTC)
    except ValueError:
        pass
    head, dot, rest = text.partition(".")
    if dot:
        digits = len(rest) - len(rest.lstrip("0123456789"))
        text = f"{head}.{rest[:digits][:6].ljust(6, '0')}{rest[digits:]}"
    try:
        at = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidMessage(f"{what} is not an RFC 3339 time: {text[:40]!r}") from None
    if at.tzinfo is None:
        raise InvalidMessage(f"{what} has no time zone: {text[:40]!r}")
    return at.astimezone(UTC)
