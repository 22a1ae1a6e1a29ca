"""The files re-published from the operator's validated data as it sent them (vehicle_types,
geofencing_zones, system_pricing_plans, system_alerts), converted to GBFS 2.3 or 3.0.

The operator may speak any 2.x or 3.0; the shapes differ in four ways, read here by the
value rather than the declared version (a 2.2 feed and a 2.3 one write the same):
- 3.0 writes texts as localized arrays `[{"text", "language"}]`, 2.x as plain strings;
- 3.0 writes times as RFC 3339 strings, 2.x as POSIX seconds;
- a few fields are renamed (`eco_label` -> `eco_labels`, a rule's `vehicle_type_id` ->
  `vehicle_type_ids`);
- geofencing rules: 2.x (2.3 included) say `ride_allowed`, "may an undocked ride start and
  end here"; 3.0 split it into `ride_start_allowed` and `ride_end_allowed`, and added
  `global_rules` for outside the zones.
Then every record keeps only the fields the target version's official schema declares, so a
field of one version never leaks into the other.
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache

from matching_and_import_db.live.gbfs.normalize import localized_text
from matching_and_import_db.live.gbfs.times import parse_time
from matching_and_import_db.live.gbfs.validation import validator

CONVERTED = ("vehicle_types", "geofencing_zones", "system_pricing_plans", "system_alerts")
RENAMED = {"eco_label": "eco_labels"}  # 2.x -> 3.0 (a rule's vehicle types: _rule)
# 3.0 retired the "scooter" form factor of 2.x (2.3 deprecated it for scooter_standing and
# scooter_seated): which of the two it is the source does not say, so 3.0 gets "other"
# (true of it) rather than a guess.
FORM_FACTORS_3 = {"scooter": "other"}


def time_in(version: str, value: datetime) -> int | str:
    if version == "2.3":
        return int(value.timestamp())
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def text_in(version: str, value, language: str):
    """A text in the version's shape; a 3.0 source's translations all stay in 3.0."""
    if version == "2.3":
        return localized_text(value, language)
    if isinstance(value, list):
        kept = [t for t in value if isinstance(t, dict) and "text" in t and "language" in t]
        return kept or None
    return None if value is None else [{"text": value, "language": language}]


def convert(name: str, version: str, data: dict, language: str) -> dict | None:
    """The `data` of the file in `version` (None for a file not converted here)."""
    if name == "vehicle_types":
        return {"vehicle_types": [_vehicle_type(version, t, language)
                                  for t in data.get("vehicle_types") or []]}
    if name == "system_pricing_plans":
        return {"plans": [_record(version, name, ("plans",), p, language, ("name",
                                  "description")) for p in data.get("plans") or []]}
    if name == "system_alerts":
        return {"alerts": [_alert(version, a, language) for a in data.get("alerts") or []]}
    if name == "geofencing_zones":
        return _zones(version, data, language)
    return None


@cache
def _fields(version: str, name: str, path: tuple[str, ...]) -> frozenset[str]:
    """The fields the official schema declares for the records at `path` of `data`."""
    node = validator(version, name).schema["properties"]["data"]
    for step in path:
        node = node["properties"][step]
        node = node.get("items", node)
    return frozenset(node["properties"])


def _record(version: str, name: str, path: tuple[str, ...], record: dict, language: str,
            texts: tuple[str, ...] = (), times: tuple[str, ...] = ()) -> dict:
    out = {}
    for key, value in record.items():
        if version == "3.0":
            key = RENAMED.get(key, key)
        else:
            key = next((old for old, new in RENAMED.items() if new == key), key)
        if key in texts:
            value = text_in(version, value, language)
        elif key in times:
            when = parse_time(value)
            value = None if when is None else time_in(version, when)
        if value is not None:
            out[key] = value
    known = _fields(version, name, path)
    return {k: v for k, v in out.items() if k in known}


def _vehicle_type(version: str, vehicle_type: dict, language: str) -> dict:
    # name, make and model are strings in 2.3 and localized in 3.0; description is 3.0's
    # only (the schema filter drops it from 2.3)
    out = _record(version, "vehicle_types", ("vehicle_types",), vehicle_type, language,
                  ("name", "make", "model", "description"))
    if version == "3.0" and out.get("form_factor") in FORM_FACTORS_3:
        out["form_factor"] = FORM_FACTORS_3[out["form_factor"]]
    return out


def _alert(version: str, alert: dict, language: str) -> dict:
    # url is a localized text in 3.0 too (one page per language)
    out = _record(version, "system_alerts", ("alerts",), alert, language,
                  ("summary", "description", "url"), ("last_updated",))
    if alert.get("times"):
        out["times"] = [_record(version, "system_alerts", ("alerts", "times"), t, language,
                                times=("start", "end")) for t in alert["times"]]
    return out


def _zones(version: str, data: dict, language: str) -> dict:
    collection = data.get("geofencing_zones") or {"type": "FeatureCollection", "features": []}
    features = []
    for feature in collection.get("features") or []:
        props = _record(version, "geofencing_zones", ("geofencing_zones", "features",
                        "properties"), feature.get("properties") or {}, language,
                        ("name",), ("start", "end"))
        if "rules" in props:
            props["rules"] = [_rule(version, r) for r in props["rules"]]
        features.append({**feature, "properties": props})
    out = {"geofencing_zones": {**collection, "features": features}}
    if version == "3.0":
        # required in 3.0; a 2.x source states nothing outside its zones, so neither do we
        out["global_rules"] = [_rule(version, r) for r in data.get("global_rules") or []]
    return out


def _rule(version: str, rule: dict) -> dict:
    out = {}
    for key, value in rule.items():
        if key in ("vehicle_type_id", "vehicle_type_ids"):
            out["vehicle_type_id" if version == "2.3" else "vehicle_type_ids"] = value
        elif key in ("ride_through_allowed", "maximum_speed_kph", "station_parking"):
            out[key] = value
    if "ride_allowed" in rule:
        start = end = rule["ride_allowed"]
    else:
        start, end = rule.get("ride_start_allowed"), rule.get("ride_end_allowed")
    if version == "3.0":
        # 2.x's "may a ride start and end here" answers both of 3.0's questions alike
        out["ride_start_allowed"], out["ride_end_allowed"] = start, end
    else:
        # 2.x asks whether a ride may start *and* end here: a zone where rides may start
        # but not end (Almere's hubs) is false, as 2.x readers must not end rides there
        out["ride_allowed"] = bool(start) and bool(end)
    return out
