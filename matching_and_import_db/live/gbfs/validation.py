"""Every fetched file is checked before it is used: JSON, the official GBFS JSON schema of
its version (MobilityData's gbfs-json-schema, in schemas/, with jsonschema), then the
sanity checks feed users ask for.

Two outcomes. A file that is broken as a whole (not JSON, not of its schema outside the
records, last_updated in the future, an unknown version) is refused: InvalidFile, the last
good data stays. A file with some bad records (a station with null coordinates, a duplicate
id) is used without them, and each is named in the warnings.

Messages say where and which rule, never a value the feed holds (they are shown and logged).

Records (a few hundred stations at every poll, most with a new last_reported) are first
checked by fastjsonschema, which compiles a schema to Python and is ten times faster than
jsonschema; only a record it finds wrong is validated again by jsonschema, whose errors
name the path and the rule. fastjsonschema is the stricter of the two (it also checks
formats, which jsonschema leaves alone unless asked): a record it passes is one jsonschema
passes too.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from functools import cache
from importlib import resources

import fastjsonschema
import jsonschema
import orjson

from matching_and_import_db.errors import InputError
from matching_and_import_db.live.gbfs.model import Checked
from matching_and_import_db.live.gbfs.times import parse_time

SUPPORTED = ("1.0", "1.1", "2.0", "2.1", "2.2", "2.3", "3.0")
CLOCK_SKEW = timedelta(seconds=60)  # a feed's clock may run this far ahead of ours

# the list of records inside `data` of each file, and the id of a record
RECORDS = {"station_information": (("stations",), "station_id"),
           "station_status": (("stations",), "station_id"),
           "free_bike_status": (("bikes",), "bike_id"),
           "vehicle_status": (("vehicles",), "vehicle_id"),
           "vehicle_types": (("vehicle_types",), "vehicle_type_id"),
           "geofencing_zones": (("geofencing_zones", "features"), None)}


# Flags that 1.x wrote as 0/1 and 2.x and later as booleans. Feeds that moved to 2.x and
# kept 0/1 (Oslo's of 2022) are read, with a warning, rather than losing every station.
FLAGS = ("is_installed", "is_renting", "is_returning", "is_reserved", "is_disabled")


class InvalidFile(InputError):
    """The file cannot be used at all; the reason names the file and the rule."""


def schema_version(declared: str | None) -> str:
    """The schema folder for a declared version: 1.x feeds before 1.1 declare none."""
    if declared is None:
        return "1.0"
    base = str(declared).split("-", 1)[0]
    if base not in SUPPORTED:
        raise InvalidFile(f"GBFS version {str(declared)[:20]!r} is not supported "
                          f"(supported: {', '.join(SUPPORTED)})")
    return base


@cache
def validator(version: str, name: str) -> jsonschema.protocols.Validator | None:
    path = resources.files(__package__).joinpath("schemas", f"v{version}", f"{name}.json")
    if not path.is_file():
        return None
    schema = json.loads(path.read_text())
    cls = jsonschema.validators.validator_for(schema)
    return cls(schema)


def _where(path) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "the document"


def _rule(error: jsonschema.ValidationError) -> str:
    if error.validator == "required":
        missing = [p for p in error.validator_value
                   if isinstance(error.instance, dict) and p not in error.instance]
        return f"lacks the required {', '.join(map(repr, missing)) or 'members'}"
    if error.validator in ("type", "enum", "const", "minimum", "maximum", "format",
                           "pattern", "minItems", "maxItems", "minLength"):
        value = error.validator_value
        shown = value if len(repr(value)) <= 60 else "the schema's rule"
        return f"must satisfy {error.validator} {shown!r}"
    return f"breaks the schema's {error.validator!r} rule"


def parse_json(name: str, body: bytes) -> dict:
    try:
        doc = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        what = "an HTML page" if body.lstrip()[:1] == b"<" else "not valid JSON"
        raise InvalidFile(f"{name}: the answer is {what} ({_position(exc)})") from None
    if not isinstance(doc, dict):
        raise InvalidFile(f"{name}: the answer is not a JSON object")
    return doc


def _position(exc: orjson.JSONDecodeError) -> str:
    return f"line {exc.lineno}, column {exc.colno}" if hasattr(exc, "lineno") else "at its start"


def check(name: str, doc: dict, declared_version: str | None,
          now: datetime | None = None) -> Checked:
    """Validate a parsed file of the given name; the file's own `version` wins over the
    version its gbfs.json declared."""
    now = now or datetime.now(UTC)
    version = schema_version(doc.get("version", declared_version))
    v = validator(version, name)
    if v is None:
        raise InvalidFile(f"{name}: not a file of GBFS {version}")
    records_at, id_key = RECORDS.get(name, ((), None))
    warnings: list[str] = []
    if version >= "2.0" and records_at:
        _flags_as_booleans(doc, records_at, name, warnings)
    records = _records(doc, records_at)
    bad = _bad_records(version, name, records_at, records) if records is not None else {}
    if records is not None:  # the rest of the document, without its records
        doc = _with_records(doc, records_at, [])
    for error in sorted(v.iter_errors(doc), key=lambda e: list(map(str, e.path))):
        path = list(error.absolute_path)
        if records is not None and path == ["data", *records_at]:
            continue  # a rule on the list itself (minItems) was for the whole list
        index = _record_index(path, records_at)
        if name == "gbfs" and error.validator in ("anyOf", "contains") \
                and path[-1:] == ["feeds"]:
            # which files must be listed (system_information; station or vehicle files in
            # the newest schemas): a feed of zones alone (TIER Oslo) is incomplete, not
            # unreadable, and the files it lists are read
            warnings.append(f"gbfs: {_where(path)} does not list every file GBFS "
                            f"{version} requires")
            continue
        if index is None:
            raise InvalidFile(f"{name}: does not follow the GBFS {version} schema: "
                              f"{_where(path)} {_rule(error)}")
        bad.setdefault(index, f"{_where(path)} {_rule(error)}")
    last_updated = parse_time(doc.get("last_updated"))
    if last_updated is None:
        raise InvalidFile(f"{name}: last_updated is missing or not a time")
    if last_updated > now + CLOCK_SKEW:
        ahead = int((last_updated - now).total_seconds())
        raise InvalidFile(f"{name}: last_updated is {ahead} s in the future")
    warnings += [f"{name}: {where} (record left out)" for where in list(bad.values())[:5]]
    if len(bad) > 5:
        warnings.append(f"{name}: {len(bad) - 5} more records left out for schema errors")
    data = doc["data"]
    if records is not None:
        data = _without(_with_records(doc, records_at, records)["data"], records_at, bad,
                        id_key, name, warnings)
    return Checked(version=version, last_updated=last_updated, ttl=int(doc.get("ttl") or 0),
                   data=data, warnings=warnings)


# Each record (a station, a vehicle, a zone) is validated against the records' subschema,
# and the outcome kept by the record's exact content: a station that did not change since
# the last poll is not validated again (most do not, in 15 seconds). Bounded: cleared when
# full.
_RECORD_CACHE: dict[tuple[str, str, bytes], str | None] = {}
RECORD_CACHE_SIZE = 500_000


@cache
def record_validator(version: str, name: str) -> jsonschema.protocols.Validator:
    path = resources.files(__package__).joinpath("schemas", f"v{version}", f"{name}.json")
    schema = json.loads(path.read_text())
    node = schema["properties"]["data"]
    for key in RECORDS[name][0]:
        node = node["properties"][key]
    item = {"$schema": schema.get("$schema"), **node["items"]}
    return jsonschema.validators.validator_for(schema)(item)


@cache
def fast_record_check(version: str, name: str):
    """The records' subschema compiled by fastjsonschema: raises JsonSchemaException for
    a record that breaks it."""
    return fastjsonschema.compile(record_validator(version, name).schema)


def _passes(check, record) -> bool:
    try:
        check(record)
        return True
    except fastjsonschema.JsonSchemaException:
        return False


def _records(doc: dict, records_at: tuple[str, ...]) -> list | None:
    node = doc.get("data")
    for key in records_at:
        node = node.get(key) if isinstance(node, dict) else None
    return node if records_at and isinstance(node, list) else None


def _with_records(doc: dict, records_at: tuple[str, ...], records: list) -> dict:
    """A copy of doc (copied along the path only) with the records list replaced."""
    out = dict(doc)
    node = out["data"] = dict(out["data"])
    for key in records_at[:-1]:
        node[key] = dict(node[key])
        node = node[key]
    node[records_at[-1]] = records
    return out


def _bad_records(version: str, name: str, records_at: tuple[str, ...],
                 records: list) -> dict[int, str]:
    v = record_validator(version, name)
    fast = fast_record_check(version, name)
    prefix = ["data", *records_at]
    bad = {}
    if len(_RECORD_CACHE) > RECORD_CACHE_SIZE:
        _RECORD_CACHE.clear()
    for i, record in enumerate(records):
        key = (version, name, orjson.dumps(record, option=orjson.OPT_SORT_KEYS))
        if key in _RECORD_CACHE:
            problem = _RECORD_CACHE[key]
        elif _passes(fast, record):
            problem = _RECORD_CACHE[key] = None
        else:
            error = min(v.iter_errors(record), key=lambda e: list(map(str, e.path)),
                        default=None)
            problem = None if error is None else (
                f"{_where([*prefix, i, *error.absolute_path])} {_rule(error)}")
            _RECORD_CACHE[key] = None if problem is None else problem.replace(
                f"[{i}]", "[#]", 1)
        if problem is not None:
            bad[i] = problem.replace("[#]", f"[{i}]", 1)
    return bad


def _flags_as_booleans(doc: dict, records_at: tuple[str, ...], name: str,
                       warnings: list[str]) -> None:
    container = doc.get("data")
    for key in records_at:
        container = container.get(key) if isinstance(container, dict) else None
    if not isinstance(container, list):
        return
    fixed = 0
    for record in container:
        if not isinstance(record, dict):
            continue
        for flag in FLAGS:
            value = record.get(flag)
            if type(value) is int and value in (0, 1):
                record[flag] = bool(value)
                fixed += 1
    if fixed:
        warnings.append(f"{name}: {fixed} flags written as 0/1 (GBFS 1.x style) were read "
                        "as booleans")


def _record_index(path: list, records_at: tuple[str, ...]) -> int | None:
    prefix = ["data", *records_at]
    if len(path) > len(prefix) and path[:len(prefix)] == prefix \
            and isinstance(path[len(prefix)], int):
        return path[len(prefix)]
    return None


def _without(data: dict, records_at: tuple[str, ...], bad: dict[int, str],
             id_key: str | None, name: str, warnings: list[str]) -> dict:
    """data with the bad records and all but the first of each duplicate id left out."""
    container = data
    for key in records_at[:-1]:
        container = container.get(key) or {}
    records = container.get(records_at[-1]) or []
    kept, seen, duplicates = [], set(), {}
    for i, record in enumerate(records):
        if i in bad:
            continue
        rid = record.get(id_key) if id_key else None
        if rid is not None:
            if rid in seen:
                duplicates[rid] = duplicates.get(rid, 1) + 1
                continue
            seen.add(rid)
        kept.append(record)
    for rid, count in list(duplicates.items())[:5]:
        warnings.append(f"{name}: {id_key} {str(rid)[:40]!r} appears {count} times; "
                        "the first is used")
    if len(duplicates) > 5:
        warnings.append(f"{name}: {len(duplicates) - 5} more duplicate ids")
    out = dict(data)
    if len(records_at) == 1:
        out[records_at[0]] = kept
    else:
        out[records_at[0]] = {**data[records_at[0]], records_at[1]: kept}
    return out
