"""What a feed's URL names: an auto-discovery gbfs.json (1.x/2.x: feeds per language;
3.0: one list), a 3.0 manifest.json (the gbfs.json of each version of each system), or a
single file, told by its content."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlparse

from matching_and_import_db.live.gbfs.validation import SUPPORTED, InvalidFile

# the files we read, in the order a poll takes them: the information before the status
# that refers to it
FILES = ("system_information", "vehicle_types", "station_information", "station_status",
         "free_bike_status", "vehicle_status", "geofencing_zones", "system_pricing_plans",
         "system_alerts")


@dataclass(frozen=True)
class Discovered:
    kind: str  # "gbfs" | "manifest" | "file"
    version: str | None
    files: dict[str, str]  # name -> URL (for "file": the one file at the feed's URL)
    gbfs_url: str | None = None  # for "manifest": the gbfs.json chosen


def kind_of(doc: dict) -> str:
    data = doc.get("data")
    if isinstance(data, dict) and isinstance(data.get("datasets"), list):
        return "manifest"
    if isinstance(data, dict) and (isinstance(data.get("feeds"), list) or any(
            isinstance(v, dict) and isinstance(v.get("feeds"), list) for v in data.values())):
        return "gbfs"
    return "file"


def file_name(url: str) -> str:
    name = urlparse(url).path.rsplit("/", 1)[-1]
    return name.removesuffix(".json")


def feeds_of(doc: dict, language: str | None) -> dict[str, str]:
    """The files a gbfs.json lists that we read, name -> URL."""
    data = doc["data"]
    if isinstance(data.get("feeds"), list):
        listed = data["feeds"]
    else:
        langs = [k for k, v in data.items() if isinstance(v, dict) and "feeds" in v]
        if not langs:
            raise InvalidFile("gbfs: lists no feeds")
        chosen = language if language in langs else langs[0]
        listed = data[chosen]["feeds"]
    return {f["name"]: f["url"] for f in listed
            if isinstance(f, dict) and f.get("name") in FILES and isinstance(f.get("url"), str)}


def gbfs_of_manifest(doc: dict, system_id: str | None = None) -> str:
    """The gbfs.json URL of the newest version we support of the (first) system."""
    datasets = doc["data"]["datasets"]
    chosen = next((d for d in datasets if system_id and d.get("system_id") == system_id),
                  datasets[0] if datasets else None)
    if not chosen:
        raise InvalidFile("manifest: lists no systems")
    versions = [v for v in chosen.get("versions", [])
                if str(v.get("version", "")).split("-")[0] in SUPPORTED and v.get("url")]
    if not versions:
        raise InvalidFile("manifest: no version of the system is one we support "
                          f"({', '.join(SUPPORTED)})")
    best = max(versions, key=lambda v: SUPPORTED.index(str(v["version"]).split("-")[0]))
    return best["url"]
