"""Our own GBFS 2.3 and 3.0 of every feed, from what the poller validated and published:
downstream apps can use the portal as a validated mirror whatever version the operator
speaks. Each document carries the ttl and last_updated of the data it is made from.

Re-published: gbfs.json, system_information, station_information, station_status,
free_bike_status (2.3) / vehicle_status (3.0), and, converted from the operator's validated
data (convert.py), vehicle_types, geofencing_zones, system_pricing_plans and system_alerts,
as far as the feed has them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from matching_and_import_db.live.gbfs import store
from matching_and_import_db.live.gbfs.convert import CONVERTED, convert, time_in
from matching_and_import_db.live.gbfs.model import FeedFile, Station, Vehicle
from matching_and_import_db.live.gbfs.normalize import localized_text
from matching_and_import_db.sqlfiles import load_sql

VERSIONS = ("2.3", "3.0")
VEHICLES_FILE = {"2.3": "free_bike_status", "3.0": "vehicle_status"}


@dataclass(frozen=True)
class Document:
    body: dict
    ttl: int


def _time(version: str, value: datetime | None):
    return time_in(version, value or datetime.now(UTC))


def _localized(version: str, value: str | None, language: str):
    if version == "2.3":
        return value or ""
    return [{"text": value or "", "language": language}]


def _source(files: dict[str, FeedFile], *names: str) -> tuple[datetime | None, int]:
    known = [files[n] for n in names if n in files and files[n].data is not None]
    if not known:
        return None, 0
    return (max(f.last_updated for f in known if f.last_updated) if any(
        f.last_updated for f in known) else None, min(f.ttl or 0 for f in known))


def available(files: dict[str, FeedFile], version: str) -> list[str]:
    names = ["gbfs", "system_information"]
    if "station_information" in files:
        names.append("station_information")
        if "station_status" in files:
            names.append("station_status")
    if "free_bike_status" in files or "vehicle_status" in files:
        names.append(VEHICLES_FILE[version])
    names += [n for n in CONVERTED if n in files and files[n].data is not None]
    return names


def document(conn, slug: str, version: str, name: str, base_url: str) -> Document | None:
    """The document, or None when the feed has no such file (in that version)."""
    files = store.feed_files(conn, slug)
    if not files or version not in VERSIONS or name not in available(files, version):
        return None
    system = (files.get("system_information") or FeedFile("", "")).data or {}
    language = _language(system)
    if name == "gbfs":
        updated, ttl = _source(files, *files)
        feeds = [{"name": n, "url": f"{base_url}{n}.json"}
                 for n in available(files, version) if n != "gbfs"]
        data = {"feeds": feeds} if version == "3.0" else {language: {"feeds": feeds}}
    elif name == "system_information":
        updated, ttl = _source(files, "system_information")
        data = _system(version, slug, system, language)
    elif name in ("station_information", "station_status"):
        updated, ttl = _source(files, "station_information", "station_status")
        stations = _stations(conn, slug)
        data = {"stations": [_station_info(version, s, language) for s in stations]
                if name == "station_information" else
                [_station_status(version, s) for s in stations
                 if s.num_bikes_available is not None]}
    elif name in CONVERTED:
        updated, ttl = _source(files, name)
        data = convert(name, version, files[name].data, language)
    else:
        updated, ttl = _source(files, "free_bike_status", "vehicle_status")
        key = "bikes" if version == "2.3" else "vehicles"
        data = {key: [_vehicle(version, v) for v in _vehicles(conn, slug)]}
    body = {"last_updated": _time(version, updated), "ttl": ttl, "version": version,
            "data": data}
    return Document(body, ttl)


def _language(system: dict) -> str:
    langs = system.get("languages") or [system.get("language") or "en"]
    return langs[0]


def _system(version: str, slug: str, system: dict, language: str) -> dict:
    name = localized_text(system.get("name"), language) or slug
    out = {"system_id": system.get("system_id") or slug,
           "name": _localized(version, name, language),
           "timezone": system.get("timezone") or "Etc/UTC"}
    if version == "2.3":
        out["language"] = language
    else:
        out["languages"] = [language]
        out["opening_hours"] = system.get("opening_hours") or "24/7"
        out["feed_contact_email"] = system.get("feed_contact_email") or system.get(
            "email") or "unknown@invalid.example"
    return out


def _stations(conn, slug: str) -> list[Station]:
    with conn.cursor() as cur:
        cur.execute(load_sql(__package__, "republish_stations.sql"), {"feed": slug})
        return [Station(*r) for r in cur.fetchall()]


def _vehicles(conn, slug: str) -> list[Vehicle]:
    with conn.cursor() as cur:
        cur.execute(load_sql(__package__, "republish_vehicles.sql"), {"feed": slug})
        return [Vehicle(*r) for r in cur.fetchall()]


def _station_info(version: str, s: Station, language: str) -> dict:
    out = {"station_id": s.station_id, "name": _localized(version, s.name, language),
           "lat": s.lat, "lon": s.lon}
    if s.capacity is not None:
        out["capacity"] = s.capacity
    return out


def _station_status(version: str, s: Station) -> dict:
    count = "num_bikes_available" if version == "2.3" else "num_vehicles_available"
    out = {"station_id": s.station_id, count: s.num_bikes_available,
           # a station we publish is installed as far as the operator told us
           "is_installed": True,
           "is_renting": bool(s.is_renting), "is_returning": bool(s.is_returning),
           "last_reported": _time(version, s.last_reported)}
    if s.num_docks_available is not None:
        out["num_docks_available"] = s.num_docks_available
    return out


def _vehicle(version: str, v: Vehicle) -> dict:
    out = {"bike_id" if version == "2.3" else "vehicle_id": v.vehicle_id,
           "is_reserved": v.is_reserved, "is_disabled": v.is_disabled}
    if v.lat is not None:
        out["lat"], out["lon"] = v.lat, v.lon
    for key in ("vehicle_type_id", "current_range_meters", "station_id"):
        if getattr(v, key) is not None:
            out[key] = getattr(v, key)
    return out

