"""Datapoint batches read into plain rows, item by item, each bad item with its own error.

Three body shapes: a GeoJSON FeatureCollection (Point features, `id` or
`properties.identifier`), a JSON list of datapoints, or NDJSON (one datapoint a line).
A datapoint is Akvo Flow's shape as Flow sends it: identifier, surveyId, formId, name (or
displayName), latitude, longitude, createdAt, lastUpdateDateTime (or modifiedAt), and the
answers (an `answers` object, or any other fields) kept as properties. snake_case spellings
are accepted too.

Bodies are read with orjson (about three times faster than the standard library here, and
strict JSON: NaN, Infinity and lone surrogates, which PostgreSQL's jsonb refuses anyway, are
refused with the body's error). Like JavaScript, it reads an integer beyond 64 bits as a
float: such numbers are not interoperable JSON (RFC 7493, I-JSON) and no Flow field is one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime

import orjson

from matching_and_import_db.errors import InputError

MAX_ITEMS = 10_000
MAX_IDENTIFIER = 255

FIELDS = {  # our column: the spellings accepted, first wins
    "identifier": ("identifier",),
    "survey_id": ("surveyId", "survey_id"),
    "form_id": ("formId", "form_id"),
    "name": ("name", "displayName", "display_name"),
    "latitude": ("latitude", "lat"),
    "longitude": ("longitude", "lon", "lng"),
    "created_at": ("createdAt", "created_at", "created"),
    "modified_at": ("lastUpdateDateTime", "modifiedAt", "modified_at", "modified",
                    "updatedAt"),
}
KNOWN = {spelling for spellings in FIELDS.values() for spelling in spellings}
NOT_PROPERTIES = frozenset(KNOWN | {"answers", "properties"})
NUMBER = (int, float)  # a tuple: `int | float` in isinstance makes a new union at each call


@dataclass(slots=True)  # not frozen: a frozen dataclass's __init__ costs 5x more, per item
class Datapoint:
    identifier: str
    name: str | None
    survey_id: str | None
    form_id: str | None
    created_at: datetime | None
    modified_at: datetime
    longitude: float
    latitude: float
    properties: dict


@dataclass(frozen=True)
class ItemError:
    index: int  # position in the batch (0-based)
    identifier: str | None
    message: str

    def as_json(self) -> dict:
        return {"index": self.index, "identifier": self.identifier, "error": self.message}


@dataclass(frozen=True)
class Batch:
    items: list[Datapoint]  # valid ones, one per identifier (the newest)
    errors: list[ItemError]
    received: int


def parse_body(body: bytes, content_type: str) -> list:
    """The raw items of a request body, or InputError when the body itself is unreadable."""
    text = body.decode("utf-8", errors="strict") if body else ""
    if "ndjson" in content_type or "jsonlines" in content_type:
        items = []
        for number, line in enumerate(text.splitlines(), start=1):
            if line.strip():
                try:
                    items.append(orjson.loads(line))
                except orjson.JSONDecodeError as exc:
                    raise InputError(f"NDJSON line {number}: not JSON ({exc.msg})") from None
        return _capped(items)
    data = read_json(text)
    if isinstance(data, dict) and data.get("type") == "FeatureCollection":
        features = data.get("features")
        if not isinstance(features, list):
            raise InputError("a FeatureCollection needs a features list")
        return _capped(features)
    if isinstance(data, dict) and data.get("type") == "Feature":
        return [data]
    if isinstance(data, list):
        return _capped(data)
    if isinstance(data, dict):
        return [data]
    raise InputError("expected a GeoJSON FeatureCollection, a JSON list or NDJSON")


def read_json(text: str | bytes):
    """A JSON body, or InputError saying where it is not JSON."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        raise InputError(f"the body is not JSON: {exc.msg} at line {exc.lineno} "
                         f"column {exc.colno}") from None


def _capped(items: list) -> list:
    if len(items) > MAX_ITEMS:
        raise InputError(f"a batch holds at most {MAX_ITEMS} datapoints, this one {len(items)}")
    return items


def read_batch(raw_items: list, now: datetime | None = None, *,
               may_hold_nul: bool = True) -> Batch:
    """may_hold_nul: False when orjson read the items (parse_body) from a body without
    \\u0000 (the caller looked once), which spares serialising every item's properties to
    look for NUL (PostgreSQL's jsonb refuses it) or for an integer beyond 64 bits (which
    orjson never reads but cannot write)."""
    now = now or datetime.now(UTC)
    latest = now.replace(year=now.year + 1)
    newest: dict[str, Datapoint] = {}
    errors: list[ItemError] = []
    for index, raw in enumerate(raw_items):
        try:
            point = read_item(raw, latest, may_hold_nul)
        except InputError as exc:
            identifier = raw.get("identifier") if isinstance(raw, dict) else None
            if identifier is None and isinstance(raw, dict) and raw.get("type") == "Feature":
                identifier = raw.get("id") or (raw.get("properties") or {}).get("identifier")
            errors.append(ItemError(index, identifier if isinstance(identifier, str) else None,
                                    str(exc)))
            continue
        held = newest.get(point.identifier)
        if held is None or point.modified_at > held.modified_at:
            newest[point.identifier] = point
    return Batch(list(newest.values()), errors, len(raw_items))


def read_item(raw, latest: datetime, may_hold_nul: bool = True) -> Datapoint:
    """One datapoint; latest: the furthest future a modification time may lie in."""
    if not isinstance(raw, dict):
        raise InputError("a datapoint must be a JSON object")
    if raw.get("type") == "Feature":
        raw = _from_feature(raw)
    fields = _fields(raw)
    identifier = fields["identifier"]
    if isinstance(identifier, int) and not isinstance(identifier, bool):
        identifier = str(identifier)
    if not isinstance(identifier, str) or not identifier.strip():
        raise InputError("identifier is missing")
    if len(identifier) > MAX_IDENTIFIER or "\x00" in identifier:
        raise InputError(f"identifier is longer than {MAX_IDENTIFIER} characters or has NUL")
    lat = _coordinate(fields["latitude"], "latitude", 90)
    lon = _coordinate(fields["longitude"], "longitude", 180)
    modified = _time(fields["modified_at"], "lastUpdateDateTime")
    if modified is None:
        raise InputError("lastUpdateDateTime (the modification time) is missing")
    if modified > latest:
        raise InputError("lastUpdateDateTime lies more than a year in the future")
    answers = raw.get("answers")
    properties = dict(answers) if isinstance(answers, dict) else {}
    for key in raw.keys() - NOT_PROPERTIES:  # in C; Flow's datapoints have no such key
        properties[key] = raw[key]
    if isinstance(raw.get("properties"), dict):
        properties.update(raw["properties"])
    if may_hold_nul:
        try:
            if b"\\u0000" in orjson.dumps(properties):
                raise InputError("a property holds a NUL character")
        except orjson.JSONEncodeError:
            raise InputError("a property holds an integer beyond 64 bits") from None
    return Datapoint(identifier=identifier, name=_text(fields["name"], "name"),
                     survey_id=_text(fields["survey_id"], "surveyId"),
                     form_id=_text(fields["form_id"], "formId"),
                     created_at=_time(fields["created_at"], "createdAt"),
                     modified_at=modified, longitude=lon, latitude=lat,
                     properties=properties)


def _fields(raw: dict) -> dict:
    """Our column -> the value of its first spelling present, or None. Plain loops: this
    runs for every datapoint, and a generator or a call per column cost more than the
    rest of read_item."""
    out = {}
    for column, spellings in FIELDS.items():
        for spelling in spellings:
            if spelling in raw:
                out[column] = raw[spelling]
                break
        else:
            out[column] = None
    return out


def _from_feature(feature: dict) -> dict:
    geometry = feature.get("geometry") or {}
    if geometry.get("type") != "Point":
        raise InputError("a datapoint feature needs a Point geometry")
    coords = geometry.get("coordinates")
    if not isinstance(coords, list) or len(coords) < 2:
        raise InputError("the Point has no [longitude, latitude]")
    props = dict(feature.get("properties") or {})
    flat = {k: props.pop(k) for k in list(props) if k in KNOWN}
    if isinstance(props.get("answers"), dict):  # a feature as our OGC API serves it
        flat["answers"] = props.pop("answers")
    flat.setdefault("identifier", feature.get("id"))
    flat["longitude"], flat["latitude"] = coords[0], coords[1]
    flat["properties"] = props
    return flat


def _coordinate(value, name: str, limit: float) -> float:
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            raise InputError(f"{name} is not a number") from None
    if isinstance(value, bool) or not isinstance(value, NUMBER):
        raise InputError(f"{name} is missing or not a number")
    if not math.isfinite(value) or abs(value) > limit:
        raise InputError(f"{name} must lie within ±{limit:g}")
    return float(value)


def _time(value, name: str) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, bool):
        raise InputError(f"{name} is not a time")
    if isinstance(value, NUMBER):  # Flow sends epoch milliseconds
        try:
            return datetime.fromtimestamp(value / 1000, UTC)
        except (OverflowError, OSError, ValueError):
            raise InputError(f"{name} is out of range") from None
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise InputError(f"{name} is not an ISO 8601 time") from None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    raise InputError(f"{name} is not a time")


def _text(value, name: str) -> str | None:
    if value is None:
        return None
    if isinstance(value, NUMBER) and not isinstance(value, bool):
        return str(value)
    if not isinstance(value, str) or "\x00" in value:
        raise InputError(f"{name} must be text")
    return value[:1000]
