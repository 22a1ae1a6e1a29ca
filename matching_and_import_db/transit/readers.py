"""Readers for official stop registries (Swiss ATLAS export, GTFS stops.txt in a zip, UK
NaPTAN CSV, any CSV or GeoJSON with a column mapping) and the adapter from the OSM reader.

Each keeps the source's stable id, names, platform code, operator, coordinates and validity.
Input that cannot be what it claims raises InputError naming the file, line and problem;
rows that are merely incomplete (no coordinates, an older version) are skipped and listed.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import re
import zipfile
from collections import defaultdict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime

import shapely

from matching_and_import_db.errors import InputError
from matching_and_import_db.transit.model import OfficialStop, OsmStopRef

# the fields a column mapping may set; the left-hand side of a generic mapping
MAPPABLE_FIELDS = ("id", "name", "lat", "lon", "platform_code", "operator", "valid_from",
                   "valid_to", "sloid", "ifopt", "uic_ref", "didok", "gtfs_stop_id",
                   "atco_code", "parent_id")
_IFOPT = re.compile(r"^[a-z]{2}:\d+(?::[\w-]*){1,4}$", re.IGNORECASE)
_DATE_FORMATS = ("%Y-%m-%d", "%Y%m%d", "%d.%m.%Y")


@dataclass(frozen=True)
class SkippedRow:
    line: int
    stop_id: str | None
    reason: str


@dataclass
class RegistryRead:
    stops: list[OfficialStop] = field(default_factory=list)
    skipped: list[SkippedRow] = field(default_factory=list)


# --- ATLAS -----------------------------------------------------------------------------

def read_atlas(path: str, valid_on: date | None = None) -> RegistryRead:
    """The ATLAS service-point / traffic-point export (';'-separated, UTF-8). With valid_on,
    only versions valid that day; without, the newest version of each sloid."""
    name = os.path.basename(path)
    with _open_text(path) as f:
        rows = _Rows(f, name, ";")
        columns = rows.columns
        _require(columns, ("sloid", "designationOfficial"), name)
        has_wgs = {"wgs84East", "wgs84North"} <= set(columns)
        if not has_wgs and not {"lv95East", "lv95North"} <= set(columns):
            raise InputError(f"{name}: missing columns wgs84North, wgs84East "
                             "(or lv95East, lv95North); found: " + _shown(columns))
        newest: dict[str, tuple[OfficialStop, int]] = {}
        read = RegistryRead()
        for line, row in rows:
            sloid = row["sloid"].strip()
            if not sloid:
                raise InputError(f"{name} line {line}: empty sloid")
            lon, lat = _atlas_position(row, has_wgs, name, line)
            if lon is None:
                read.skipped.append(SkippedRow(line, sloid, "no coordinates"))
                continue
            valid_from = _date(row.get("validFrom"), name, line, "validFrom")
            valid_to = _date(row.get("validTo"), name, line, "validTo")
            if valid_on and not ((valid_from or date.min) <= valid_on <= (valid_to or date.max)):
                read.skipped.append(SkippedRow(line, sloid, f"not valid on {valid_on}"))
                continue
            stop = OfficialStop(
                source="atlas", stop_id=sloid, name=_text(row["designationOfficial"]),
                lon=lon, lat=lat, platform_code=_text(row.get("designation")),
                operator=_first(row, "servicePointBusinessOrganisationAbbreviationEn",
                                "servicePointBusinessOrganisationAbbreviationDe"),
                valid_from=valid_from, valid_to=valid_to, sloid=sloid,
                uic_ref=_text(row.get("number")), didok=_text(row.get("numberShort")),
                parent_id=_first(row, "parentSloidServicePoint", "parentSloid"),
                extra=_kept(row, {
                    "operator_name": ("servicePointBusinessOrganisationDescriptionEn",
                                      "servicePointBusinessOrganisationDescriptionDe"),
                    "designation_operational": ("designationOperational",),
                    "element_type": ("trafficPointElementType",), "status": ("status",)}))
            if sloid in newest:
                kept, kept_line = newest[sloid]
                if (kept.valid_from or date.min) >= (valid_from or date.min):
                    read.skipped.append(SkippedRow(line, sloid, "older version"))
                    continue
                read.skipped.append(SkippedRow(kept_line, sloid, "older version"))
            newest[sloid] = (stop, line)
        read.stops = [stop for stop, _ in newest.values()]
    return read


def _atlas_position(row: dict, has_wgs: bool, name: str, line: int):
    if has_wgs and (row["wgs84East"] or "").strip():
        return (_coordinate(row["wgs84East"], "wgs84East", name, line, 180),
                _coordinate(row["wgs84North"], "wgs84North", name, line, 90))
    east, north = (row.get("lv95East") or "").strip(), (row.get("lv95North") or "").strip()
    if not east or not north:
        return None, None
    return lv95_to_wgs84(_number(east, "lv95East", name, line),
                         _number(north, "lv95North", name, line))


def lv95_to_wgs84(east: float, north: float) -> tuple[float, float]:
    """swisstopo's approximate formulas (about 1 m): Swiss LV95 to longitude, latitude."""
    y, x = (east - 2_600_000) / 1e6, (north - 1_200_000) / 1e6
    lon = 2.6779094 + 4.728982 * y + 0.791484 * y * x + 0.1306 * y * x * x - 0.0436 * y ** 3
    lat = (16.9023892 + 3.238272 * x - 0.270978 * y * y - 0.002528 * x * x
           - 0.0447 * y * y * x - 0.0140 * x ** 3)
    return lon * 100 / 36, lat * 100 / 36


# --- GTFS ------------------------------------------------------------------------------

def read_gtfs_stops(path: str, location_types: tuple[str, ...] = ("0",)) -> RegistryRead:
    """stops.txt of a GTFS zip: stops and platforms (location_type 0) unless told otherwise.
    IFOPT-shaped stop ids (German DHIDs such as de:08115:2222:0:3) are kept as ifopt too."""
    name = os.path.basename(path)
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise InputError(f"{name}: not a readable GTFS zip ({exc})") from exc
    with archive:
        members = {m.rsplit("/", 1)[-1]: m for m in archive.namelist()
                   if m.count("/") <= 1 and not m.endswith("/")}
        if "stops.txt" not in members:
            raise InputError(f"{name}: no stops.txt in the zip")
        operator = _single_agency(archive, members, name)
        valid_from, valid_to = _feed_validity(archive, members, name)
        with archive.open(members["stops.txt"]) as raw:
            rows = _Rows(_decode(raw), f"{name}/stops.txt", ",")
            _require(rows.columns, ("stop_id", "stop_lat", "stop_lon"), f"{name}/stops.txt")
            read = RegistryRead()
            for line, row in rows:
                stop_id = row["stop_id"].strip()
                if (row.get("location_type") or "0").strip() not in location_types:
                    continue
                if not row["stop_lat"].strip() or not row["stop_lon"].strip():
                    read.skipped.append(SkippedRow(line, stop_id, "no coordinates"))
                    continue
                where = f"{name}/stops.txt"
                read.stops.append(OfficialStop(
                    source="gtfs", stop_id=stop_id, name=_text(row.get("stop_name")),
                    lon=_coordinate(row["stop_lon"], "stop_lon", where, line, 180),
                    lat=_coordinate(row["stop_lat"], "stop_lat", where, line, 90),
                    platform_code=_text(row.get("platform_code")), operator=operator,
                    valid_from=valid_from, valid_to=valid_to, gtfs_stop_id=stop_id,
                    ifopt=stop_id if _IFOPT.match(stop_id) else None,
                    parent_id=_text(row.get("parent_station")),
                    extra=_kept(row, {"stop_code": ("stop_code",)})))
    return read


def _single_agency(archive: zipfile.ZipFile, members: dict, name: str) -> str | None:
    if "agency.txt" not in members:
        return None
    with archive.open(members["agency.txt"]) as raw:
        agencies = [row.get("agency_name") for _, row in
                    _Rows(_decode(raw), f"{name}/agency.txt", ",")]
    return _text(agencies[0]) if len(agencies) == 1 else None


def _feed_validity(archive: zipfile.ZipFile, members: dict, name: str):
    if "feed_info.txt" not in members:
        return None, None
    with archive.open(members["feed_info.txt"]) as raw:
        for line, row in _Rows(_decode(raw), f"{name}/feed_info.txt", ","):
            where = f"{name}/feed_info.txt"
            return (_date(row.get("feed_start_date"), where, line, "feed_start_date"),
                    _date(row.get("feed_end_date"), where, line, "feed_end_date"))
    return None, None


# --- NaPTAN ----------------------------------------------------------------------------

_NAPTAN_PLATFORM = re.compile(r"^(?:stop|stand|bay|stance|platform)\s+([a-z]?\d{0,3}[a-z]?)$",
                              re.IGNORECASE)


def read_naptan(path: str, include_inactive: bool = False) -> RegistryRead:
    """The NaPTAN CSV export (Stops.csv). The platform code comes from an Indicator such as
    "Stop A" or "Stand 3"; "opp", "adj", "S-bound" are kept as extra."""
    name = os.path.basename(path)
    with _open_text(path) as f:
        rows = _Rows(f, name, ",")
        if ({"Easting", "Northing"} <= set(rows.columns)
                and not {"Longitude", "Latitude"} <= set(rows.columns)):
            raise InputError(f"{name}: only OS grid Easting/Northing, no Longitude/Latitude "
                             "columns; export NaPTAN with WGS84 coordinates")
        _require(rows.columns, ("ATCOCode", "CommonName", "Longitude", "Latitude"), name)
        read = RegistryRead()
        for line, row in rows:
            atco = row["ATCOCode"].strip()
            status = (row.get("Status") or "active").strip().lower()
            if status in ("inactive", "del", "deleted") and not include_inactive:
                read.skipped.append(SkippedRow(line, atco, f"status {status}"))
                continue
            if not row["Longitude"].strip() or not row["Latitude"].strip():
                read.skipped.append(SkippedRow(line, atco, "no coordinates"))
                continue
            indicator = (row.get("Indicator") or "").strip()
            platform = _NAPTAN_PLATFORM.match(indicator)
            read.stops.append(OfficialStop(
                source="naptan", stop_id=atco, name=_text(row["CommonName"]),
                lon=_coordinate(row["Longitude"], "Longitude", name, line, 180),
                lat=_coordinate(row["Latitude"], "Latitude", name, line, 90),
                platform_code=platform.group(1) if platform else None, atco_code=atco,
                extra=_kept(row, {"indicator": ("Indicator",), "naptan_code": ("NaptanCode",),
                                  "locality": ("LocalityName",), "stop_type": ("StopType",),
                                  "status": ("Status",)})))
    return read


# --- generic CSV / GeoJSON with a column mapping ----------------------------------------

def read_mapped_csv(path: str, mapping: Mapping[str, str], source: str = "csv",
                    delimiter: str | None = None) -> RegistryRead:
    """Any CSV: mapping says which column holds each field (at least id, lat, lon).
    The delimiter is guessed from the header line unless given."""
    name = os.path.basename(path)
    _check_mapping(mapping, ("id", "lat", "lon"))
    with _open_text(path) as f:
        header = f.readline()
        f.seek(0)
        sep = delimiter or max(",;\t|", key=header.count)
        rows = _Rows(f, name, sep)
        _require(rows.columns, tuple(mapping.values()), name)
        read = RegistryRead()
        for line, row in rows:
            values = {key: row.get(column) for key, column in mapping.items()}
            stop = _mapped_stop(source, values, name, f"line {line}", decimal_comma=sep != ",")
            if stop is None:
                read.skipped.append(SkippedRow(line, _text(values["id"]), "no coordinates"))
            else:
                read.stops.append(stop)
    return read


def read_mapped_geojson(path: str, mapping: Mapping[str, str],
                        source: str = "geojson") -> RegistryRead:
    """A GeoJSON FeatureCollection of Points; mapping names the property of each field
    (without "id", the feature's own id is used)."""
    name = os.path.basename(path)
    _check_mapping(mapping, ())
    if {"lat", "lon"} & set(mapping):
        raise InputError("a GeoJSON mapping takes no lat/lon: the geometry is the position")
    try:
        with open(path, encoding="utf-8-sig") as f:
            data = json.load(f)
    except json.JSONDecodeError as exc:
        raise InputError(f"{name} line {exc.lineno}: not valid JSON ({exc.msg})") from exc
    features = data.get("features") if isinstance(data, dict) else None
    if not isinstance(features, list):
        raise InputError(f"{name}: not a GeoJSON FeatureCollection (no features list)")
    read = RegistryRead()
    for number, feature in enumerate(features, start=1):
        where = f"feature {number}"
        geometry = (feature or {}).get("geometry") or {}
        if geometry.get("type") != "Point":
            raise InputError(f"{name} {where}: geometry is {geometry.get('type')}, "
                             "expected Point")
        coordinates = geometry.get("coordinates") or []
        if len(coordinates) < 2:
            raise InputError(f"{name} {where}: a Point needs [longitude, latitude]")
        props = feature.get("properties") or {}
        values = {key: props.get(column) for key, column in mapping.items()}
        values.setdefault("id", feature.get("id"))
        values["lon"], values["lat"] = coordinates[0], coordinates[1]
        read.stops.append(_mapped_stop(source, values, name, where, decimal_comma=False))
    return read


def _check_mapping(mapping: Mapping[str, str], required: tuple[str, ...]) -> None:
    unknown = sorted(set(mapping) - set(MAPPABLE_FIELDS))
    if unknown:
        raise InputError(f"unknown field(s) in the column mapping: {', '.join(unknown)}; "
                         f"known: {', '.join(MAPPABLE_FIELDS)}")
    missing = [k for k in required if k not in mapping]
    if missing:
        raise InputError(f"the column mapping lacks {', '.join(missing)}")


def _mapped_stop(source: str, values: dict, name: str, where: str,
                 decimal_comma: bool) -> OfficialStop | None:
    stop_id = _text(None if values.get("id") is None else str(values["id"]))
    if not stop_id:
        raise InputError(f"{name} {where}: empty stop id")
    raw_lon, raw_lat = (str(v).strip() if v is not None else "" for v in
                        (values["lon"], values["lat"]))
    if not raw_lon or not raw_lat:
        return None
    if decimal_comma:
        raw_lon, raw_lat = raw_lon.replace(",", "."), raw_lat.replace(",", ".")
    text = {k: _text(None if values.get(k) is None else str(values[k]))
            for k in MAPPABLE_FIELDS if k not in ("id", "lat", "lon", "valid_from", "valid_to")}
    return OfficialStop(
        source=source, stop_id=stop_id, name=text["name"],
        lon=_coordinate(raw_lon, "lon", name, where, 180),
        lat=_coordinate(raw_lat, "lat", name, where, 90),
        platform_code=text["platform_code"], operator=text["operator"],
        valid_from=_date(values.get("valid_from"), name, where, "valid_from"),
        valid_to=_date(values.get("valid_to"), name, where, "valid_to"),
        sloid=text["sloid"], ifopt=text["ifopt"], uic_ref=text["uic_ref"], didok=text["didok"],
        gtfs_stop_id=text["gtfs_stop_id"], atco_code=text["atco_code"],
        parent_id=text["parent_id"])


# --- OSM -------------------------------------------------------------------------------

def osm_stop_from_reader(stop, stop_areas: tuple[int, ...] = ()) -> OsmStopRef:
    """An osm.reader.Stop as the matcher sees it; a way (platform outline) by its centre."""
    geometry = shapely.from_wkb(bytes.fromhex(stop.wkb))
    point = geometry if geometry.geom_type == "Point" else geometry.centroid
    tags = stop.tags
    return OsmStopRef(osm_type=stop.osm_type, osm_id=stop.osm_id, kind=stop.kind,
                      name=tags.get("name"), ref=tags.get("ref"), uic_ref=tags.get("uic_ref"),
                      ref_ifopt=tags.get("ref:IFOPT"), ref_sloid=tags.get("ref:sloid"),
                      local_ref=tags.get("local_ref"), operator=tags.get("operator"),
                      tags=dict(tags), lon=point.x, lat=point.y, stop_areas=stop_areas)


def read_osm_stops(path: str) -> list[OsmStopRef]:
    """Every stop of an OSM file with the stop_area relations it belongs to (the roads
    are skipped)."""
    from matching_and_import_db.osm.reader import Stop, StopArea, read_osm
    stops, areas = [], defaultdict(list)
    for obj in read_osm(path):
        if isinstance(obj, Stop):
            stops.append(obj)
        elif isinstance(obj, StopArea):
            for member in obj.members:
                areas[member].append(obj.osm_id)
    return [osm_stop_from_reader(s, tuple(sorted(areas.get((s.osm_type, s.osm_id), ()))))
            for s in stops]


# --- shared helpers --------------------------------------------------------------------

class _Rows:
    """csv rows with their line numbers, checking that each has the header's width."""

    def __init__(self, f, name: str, delimiter: str) -> None:
        self.reader = csv.reader(f, delimiter=delimiter)
        self.name = name
        try:
            self.columns = [c.strip() for c in next(self.reader)]
        except StopIteration:
            raise InputError(f"{name}: the file is empty") from None
        except csv.Error as exc:
            raise InputError(f"{name} line 1: {exc}") from exc
        except UnicodeDecodeError as exc:
            raise InputError(f"{name}: not UTF-8 text ({exc.reason})") from exc

    def __iter__(self) -> Iterator[tuple[int, dict[str, str]]]:
        try:
            for values in self.reader:
                line = self.reader.line_num
                if not any(v.strip() for v in values):
                    continue
                if len(values) != len(self.columns):
                    raise InputError(f"{self.name} line {line}: {len(values)} fields, the "
                                     f"header has {len(self.columns)}")
                yield line, dict(zip(self.columns, values, strict=True))
        except csv.Error as exc:
            raise InputError(f"{self.name} line {self.reader.line_num}: {exc}") from exc
        except UnicodeDecodeError as exc:
            raise InputError(f"{self.name}: not UTF-8 text ({exc.reason} at byte "
                             f"{exc.start})") from exc


def _open_text(path: str):
    if not os.path.exists(path):
        raise InputError(f"file not found: {path}")
    return open(path, encoding="utf-8-sig", newline="")


def _decode(raw):
    return io.TextIOWrapper(raw, encoding="utf-8-sig", newline="")


def _require(columns: list[str], wanted: tuple[str, ...], name: str) -> None:
    missing = [c for c in wanted if c not in columns]
    if missing:
        raise InputError(f"{name}: missing column(s) {', '.join(missing)}; found: "
                         + _shown(columns))


def _shown(columns: list[str]) -> str:
    return ", ".join(columns[:15]) + (", ..." if len(columns) > 15 else "")


def _number(value: str, column: str, name: str, where) -> float:
    where = where if isinstance(where, str) else f"line {where}"
    try:
        number = float(value.strip())
    except ValueError:
        raise InputError(f"{name} {where}: {column} {value!r} is not a number") from None
    if not math.isfinite(number):
        raise InputError(f"{name} {where}: {column} {value!r} is not a number")
    return number


def _coordinate(value, column: str, name: str, where, limit: float) -> float:
    number = _number(str(value), column, name, where)
    if abs(number) > limit:
        where = where if isinstance(where, str) else f"line {where}"
        raise InputError(f"{name} {where}: {column} {value!r} is outside ±{limit:g}°")
    return number


def _date(value, name: str, where, column: str) -> date | None:
    text = str(value).strip() if value is not None else ""
    if not text:
        return None
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(text[:10] if fmt == "%Y-%m-%d" else text, fmt).date()
        except ValueError:
            continue
    where = where if isinstance(where, str) else f"line {where}"
    raise InputError(f"{name} {where}: {column} {text!r} is not a date (YYYY-MM-DD)")


def _text(value: str | None) -> str | None:
    value = (value or "").strip()
    return value or None


def _first(row: dict, *columns: str) -> str | None:
    return next((v for v in (_text(row.get(c)) for c in columns) if v), None)


def _kept(row: dict, wanted: dict[str, tuple[str, ...]]) -> dict[str, str]:
    kept = {key: _first(row, *columns) for key, columns in wanted.items()}
    return {k: v for k, v in kept.items() if v}


__all__ = ["MAPPABLE_FIELDS", "RegistryRead", "SkippedRow", "lv95_to_wgs84",
           "osm_stop_from_reader", "read_atlas", "read_gtfs_stops", "read_mapped_csv",
           "read_mapped_geojson", "read_naptan", "read_osm_stops"]
