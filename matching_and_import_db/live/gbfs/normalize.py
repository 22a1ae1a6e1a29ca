"""From the files of any version (1.x, 2.x, 3.0) to one set of rows: stations (information
merged with status), vehicles, zones. The cross-file sanity checks happen here: a status
for a station the information lacks, more bikes than the station's capacity."""

from __future__ import annotations

from matching_and_import_db.live.gbfs.model import Station, Vehicle, Zone
from matching_and_import_db.live.gbfs.times import parse_time


def localized_text(value, language: str | None = None) -> str | None:
    """A plain string (before 3.0) or the localized array of 3.0: the given language, else
    the first."""
    if isinstance(value, str) or value is None:
        return value
    if isinstance(value, list) and value:
        for item in value:
            if isinstance(item, dict) and item.get("language") == language:
                return item.get("text")
        first = value[0]
        return first.get("text") if isinstance(first, dict) else None
    return None


def _flag(value) -> bool | None:
    return None if value is None else bool(value)  # 1.x writes 0/1


def stations(information: dict | None, status: dict | None,
             language: str | None, warnings: list[str]) -> list[Station]:
    """Stations with a position; their status where the status file has one."""
    if not information:
        return []
    status_by_id = {s["station_id"]: s for s in (status or {}).get("stations", [])}
    out: list[Station] = []
    no_position, over_capacity, no_id = [], [], 0
    known = set()
    for info in information.get("stations", []):
        sid = info["station_id"]
        if not sid.strip():  # the schema lets an empty id through; it names nothing
            no_id += 1
            continue
        known.add(sid)
        lat, lon = info.get("lat"), info.get("lon")
        if not isinstance(lat, int | float) or not isinstance(lon, int | float):
            no_position.append(sid)
            continue
        capacity = info.get("capacity")
        st = status_by_id.get(sid, {})
        bikes = st.get("num_bikes_available", st.get("num_vehicles_available"))
        if isinstance(capacity, int) and isinstance(bikes, int) and bikes > capacity:
            over_capacity.append(sid)
        out.append(Station(
            station_id=sid, name=localized_text(info.get("name"), language), lon=float(lon),
            lat=float(lat), capacity=capacity, num_bikes_available=bikes,
            num_docks_available=st.get("num_docks_available"),
            is_renting=_flag(st.get("is_renting")), is_returning=_flag(st.get("is_returning")),
            last_reported=parse_time(st.get("last_reported"))))
    if no_id:
        warnings.append(f"station_information: {no_id} station(s) with an empty "
                        "station_id left out")
    if no_position:
        warnings.append(f"station_information: {len(no_position)} station(s) without "
                        f"coordinates left out: {_ids(no_position)}")
    if over_capacity:
        warnings.append(f"station_status: {len(over_capacity)} station(s) with more bikes "
                        f"available than their capacity: {_ids(over_capacity)}")
    unknown = [sid for sid in status_by_id if sid not in known]
    if unknown:
        warnings.append(f"station_status: status for {len(unknown)} station(s) that "
                        f"station_information lacks, left out: {_ids(unknown)}")
    return out


def _ids(ids: list[str]) -> str:
    shown = ", ".join(repr(str(i)[:40]) for i in ids[:5])
    return shown + (f" and {len(ids) - 5} more" if len(ids) > 5 else "")


def vehicles(status: dict | None, types: dict | None) -> list[Vehicle]:
    """free_bike_status (bikes, bike_id) or vehicle_status (vehicles, vehicle_id)."""
    if not status:
        return []
    form = {t["vehicle_type_id"]: t.get("form_factor")
            for t in (types or {}).get("vehicle_types", [])}
    out = []
    for v in status.get("vehicles", status.get("bikes", [])):
        lat, lon = v.get("lat"), v.get("lon")
        has_position = isinstance(lat, int | float) and isinstance(lon, int | float)
        type_id = v.get("vehicle_type_id")
        out.append(Vehicle(
            vehicle_id=v.get("vehicle_id", v.get("bike_id")),
            lon=float(lon) if has_position else None, lat=float(lat) if has_position else None,
            vehicle_type_id=type_id, form_factor=form.get(type_id),
            is_reserved=bool(v.get("is_reserved")), is_disabled=bool(v.get("is_disabled")),
            current_range_meters=v.get("current_range_meters"),
            station_id=v.get("station_id")))
    return out


def zones(geofencing: dict | None, language: str | None) -> list[Zone]:
    if not geofencing:
        return []
    collection = geofencing.get("geofencing_zones") or {}
    out = []
    for i, f in enumerate(collection.get("features", [])):
        geometry = f.get("geometry")
        if not isinstance(geometry, dict) or geometry.get("type") not in ("Polygon",
                                                                          "MultiPolygon"):
            continue
        props = f.get("properties") or {}
        out.append(Zone(index=i, name=localized_text(props.get("name"), language),
                        rules=props.get("rules") or [], geometry=geometry))
    return out
