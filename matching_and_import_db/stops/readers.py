"""Readers for official stop registries (Swiss ATLAS exports, GTFS stops.txt in a zip, UK
NaPTAN CSV, any CSV or GeoJSON with a column mapping; NeTEx is in stops.netex) and the
adapter from the OSM reader.

Each keeps the source's stable id, names, platform code, operator, coordinates and validity,
and says what a row stands for: a stop place (`level="place"`: an ATLAS service point, a GTFS
station, a NaPTAN stop area) or a platform (an ATLAS traffic point, a GTFS stop, a NaPTAN
stop point), with its mode of transport where the registry gives one.
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
import zlib
from collections import defaultdict
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import date, datetime

import shapely

from matching_and_import_db.errors import InputError
from matching_and_import_db.stops.crs import is_wgs84, to_wgs84
from matching_and_import_db.stops.gtfs_modes import stop_modes
from matching_and_import_db.stops.model import OfficialStop, OsmStopRef
from matching_and_import_db.stops.registry_modes import level_of, mode_of, modes_of

# the fields a column mapping may set; the left-hand side of a generic mapping
# (plus "extra:<key>" for any column kept as extra[<key>]); with a crs, lat is the northing
# (y) and lon the easting (x)
MAPPABLE_FIELDS = ("id", "name", "lat", "lon", "platform_code", "operator", "valid_from",
                   "valid_to", "sloid", "ifopt", "uic_ref", "didok", "gtfs_stop_id",
                   "atco_code", "parent_id", "level", "mode")
EXTRA_PREFIX = "extra:"
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

# columns only the traffic-point export has, and columns only the service-point export has
_TRAFFIC_POINT_COLUMNS = ("designation", "trafficPointElementType", "parentSloidServicePoint")
_SERVICE_POINT_COLUMNS = ("meansOfTransport", "stopPoint", "designationLong",
                          "operatingPoint", "isoCountryCode")


def atlas_export_level(columns: list[str]) -> str:
    """"place" for the service-point export (one row per stop place), "platform" for the
    traffic-point export (one row per platform) and for minimal files that say neither."""
    if any(c in columns for c in _TRAFFIC_POINT_COLUMNS):
        return "platform"
    return "place" if any(c in columns for c in _SERVICE_POINT_COLUMNS) else "platform"


def read_atlas(path: str, valid_on: date | None = None) -> RegistryRead:
    """An ATLAS export (';'-separated, UTF-8): service points (stop places, with their
    operator, means of transport, stopPoint flag and country) or traffic points (platforms,
    with their parent service point). With valid_on, only versions valid that day; without,
    the newest version of each sloid."""
    name = os.path.basename(path)
    with _open_text(path) as f:
        rows = _Rows(f, name, ";")
        columns = rows.columns
        _require(columns, ("sloid", "designationOfficial"), name)
        has_wgs = {"wgs84East", "wgs84North"} <= set(columns)
        if not has_wgs and not {"lv95East", "lv95North"} <= set(columns):
            raise InputError(f"{name} line 1: missing columns wgs84North, wgs84East "
                             f"(or lv95East, lv95North); {_shown(columns)}")
        level = atlas_export_level(columns)
        make = _atlas_service_point if level == "place" else _atlas_traffic_point
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
            stop = make(row, sloid, lon, lat, valid_from, valid_to)
            if sloid in newest:
                kept, kept_line = newest[sloid]
                if (kept.valid_from or date.min) >= (valid_from or date.min):
                    read.skipped.append(SkippedRow(line, sloid, "older version"))
                    continue
                read.skipped.append(SkippedRow(kept_line, sloid, "older version"))
            newest[sloid] = (stop, line)
        read.stops = [stop for stop, _ in newest.values()]
    return read


def _atlas_traffic_point(row: dict, sloid: str, lon: float, lat: float, valid_from,
                         valid_to) -> OfficialStop:
    return OfficialStop(
        source="atlas", stop_id=sloid, name=_text(row["designationOfficial"]),
        lon=lon, lat=lat, platform_code=_text(row.get("designation")),
        operator=_first(row, "servicePointBusinessOrganisationAbbreviationEn",
                        "servicePointBusinessOrganisationAbbreviationDe"),
        valid_from=valid_from, valid_to=valid_to, sloid=sloid,
        uic_ref=_text(row.get("number")), didok=_text(row.get("numberShort")),
        parent_id=_first(row, "parentSloidServicePoint", "parentSloid"), level="platform",
        extra=_kept(row, {
            "operator_name": ("servicePointBusinessOrganisationDescriptionEn",
                              "servicePointBusinessOrganisationDescriptionDe"),
            "designation_operational": ("designationOperational",),
            "element_type": ("trafficPointElementType",), "status": ("status",)}))


_LANGUAGES = ("En", "De", "Fr", "It")


def _atlas_service_point(row: dict, sloid: str, lon: float, lat: float, valid_from,
                         valid_to) -> OfficialStop:
    """A service point: a stop place. Several means of transport (TRAIN|BUS) leave `mode`
    unset (compatible with each) and are all kept in extra["modes"]."""
    modes = modes_of(row.get("meansOfTransport"))
    extra = _kept(row, {
        "operator_name": tuple(f"businessOrganisationDescription{lang}" for lang in _LANGUAGES),
        "operator_id": ("businessOrganisation",),
        "designation_long": ("designationLong",), "abbreviation": ("abbreviation",),
        "stop_point": ("stopPoint",), "stop_point_type": ("stopPointType",),
        "country": ("isoCountryCode", "country"), "locality": ("localityName",),
        "municipality": ("municipalityName",), "means_of_transport": ("meansOfTransport",),
        "status": ("status",)})
    if modes:
        extra["modes"] = "|".join(modes)
    return OfficialStop(
        source="atlas", stop_id=sloid, name=_text(row["designationOfficial"]), lon=lon, lat=lat,
        operator=_first(row, *(f"businessOrganisationAbbreviation{lang}" for lang in _LANGUAGES)),
        valid_from=valid_from, valid_to=valid_to, sloid=sloid,
        uic_ref=_text(row.get("number")), didok=_text(row.get("numberShort")),
        level="place", mode=modes[0] if len(modes) == 1 else None, extra=extra)


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

_GTFS_LEVELS = {"0": "platform", "1": "place"}


def read_gtfs_stops(path: str, location_types: tuple[str, ...] = ("0", "1")) -> RegistryRead:
    """stops.txt of a GTFS zip: stops and platforms (location_type 0 or empty: level
    "platform", their station in parent_id) and stations (1: level "place"); entrances,
    generic nodes and boarding areas are not stops to match. IFOPT-shaped stop ids (German
    DHIDs such as de:08115:2222:0:3) are kept as ifopt too."""
    name = os.path.basename(path)
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise InputError(f"{name}: not a readable GTFS zip ({exc})") from exc
    try:
        with archive:
            return _read_gtfs_archive(archive, name, location_types)
    except ZIP_MEMBER_ERRORS as exc:
        # a member whose bytes do not unpack: a damaged download, never a registry to read
        raise InputError(f"{name}: a file inside the GTFS zip is damaged "
                         f"({type(exc).__name__})") from None


# what reading a member of a damaged zip raises (CRC and header errors, truncated deflate
# streams, unsupported or encrypted members)
ZIP_MEMBER_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError,
                     RuntimeError, OSError)


def _read_gtfs_archive(archive: zipfile.ZipFile, name: str,
                       location_types: tuple[str, ...]) -> RegistryRead:
    members = {m.rsplit("/", 1)[-1]: m for m in archive.namelist()
               if m.count("/") <= 1 and not m.endswith("/")}
    if "stops.txt" not in members:
        raise InputError(f"{name}: no stops.txt in the zip")
    operator = _single_agency(archive, members, name)
    valid_from, valid_to = _feed_validity(archive, members, name)
    served = _served_modes(archive, members, name)
    with archive.open(members["stops.txt"]) as raw:
        rows = _Rows(_decode(raw), f"{name}/stops.txt", ",")
        _require(rows.columns, ("stop_id", "stop_lat", "stop_lon"), f"{name}/stops.txt")
        read = RegistryRead()
        for line, row in rows:
            stop_id = row["stop_id"].strip()
            location_type = (row.get("location_type") or "0").strip()
            if location_type not in location_types:
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
                level=_GTFS_LEVELS.get(location_type, "platform"),
                extra=_kept(row, {"stop_code": ("stop_code",)})))
    if served:
        read.stops = _with_served_modes(read.stops, served)
    return read


def _served_modes(archive: zipfile.ZipFile, members: dict, name: str) -> dict[str, set[str]]:
    try:
        return stop_modes(archive, members)
    except (csv.Error, UnicodeDecodeError) as exc:
        raise InputError(f"{name}: routes, trips or stop_times unreadable ({exc})") from exc


def _with_served_modes(stops: list[OfficialStop], served: dict[str, set[str]]
                       ) -> list[OfficialStop]:
    """Each stop's mode from the routes calling there; a station's from its stops'. Several
    modes: none set (compatible with each), all in extra["modes"]."""
    for stop in stops:
        if stop.parent_id and stop.stop_id in served:
            served.setdefault(stop.parent_id, set()).update(served[stop.stop_id])
    out = []
    for stop in stops:
        modes = sorted(served.get(stop.stop_id, ()))
        if modes:
            stop = replace(stop, mode=modes[0] if len(modes) == 1 else None,
                           extra={**stop.extra, "modes": "|".join(modes)})
        out.append(stop)
    return out


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


# StopType: (level, mode); entrances are not stops and are skipped
_NAPTAN_STOP_TYPES = {
    "BCT": ("platform", "bus"), "BCS": ("platform", "bus"), "BCQ": ("platform", "bus"),
    "BST": ("place", "bus"), "RPL": ("platform", "rail"), "RLY": ("place", "rail"),
    "PLT": ("platform", None), "MET": ("place", None),  # metro, underground or tram
    "FBT": ("platform", "ferry"), "FER": ("place", "ferry"), "LPL": ("platform", "cableway"),
    "LCB": ("place", "cableway"), "GAT": ("place", None), "TXR": ("platform", None),
    "STR": ("platform", None)}
_NAPTAN_ENTRANCES = frozenset({"BCE", "RSE", "TMU", "FTD", "LCE", "AIR"})
# StopAreaType → mode
_NAPTAN_AREA_MODES = {"GBCS": "bus", "GPBS": "bus", "GCLS": "bus", "GCCH": "bus",
                      "GBPS": "bus", "GRLS": "rail", "GTMU": None, "GFTD": "ferry",
                      "GAIR": None, "GLCB": "cableway"}
# GridType → CRS of Easting/Northing (Northern Ireland's grid is not supported)
_NAPTAN_GRIDS = {"U": "EPSG:27700", "UKOS": "EPSG:27700", "": "EPSG:27700"}


def read_naptan(path: str, include_inactive: bool = False) -> RegistryRead:
    """The NaPTAN CSV exports: Stops.csv (stop points: platforms, poles and bays, plus the
    access areas of stations as places; entrances are skipped) or StopAreas.csv (stop areas:
    places). The platform code comes from an Indicator such as "Stop A" or "Stand 3"; "opp",
    "adj", "S-bound" are kept as extra. Without Longitude/Latitude, Easting/Northing are
    reprojected from the British National Grid."""
    name = os.path.basename(path)
    with _open_text(path) as f:
        rows = _Rows(f, name, ",")
        areas = "StopAreaCode" in rows.columns
        id_column, name_column = (("StopAreaCode", "Name") if areas
                                  else ("ATCOCode", "CommonName"))
        has_wgs = {"Longitude", "Latitude"} <= set(rows.columns)
        if not has_wgs and not {"Easting", "Northing"} <= set(rows.columns):
            raise InputError(f"{name}: missing columns Longitude, Latitude (or Easting, "
                             "Northing); found: " + _shown(rows.columns))
        _require(rows.columns, (id_column, name_column), name)
        read = RegistryRead()
        for line, row in rows:
            code = row[id_column].strip()
            status = (row.get("Status") or "active").strip().lower()
            if status in ("inactive", "del", "deleted") and not include_inactive:
                read.skipped.append(SkippedRow(line, code, f"status {status}"))
                continue
            stop_type = (row.get("StopAreaType" if areas else "StopType") or "").strip()
            if stop_type in _NAPTAN_ENTRANCES:
                read.skipped.append(SkippedRow(line, code, f"an entrance (StopType {stop_type})"))
                continue
            position = _naptan_position(row, has_wgs, name, line)
            if position is None:
                read.skipped.append(SkippedRow(line, code, "no coordinates"))
                continue
            if areas:
                read.stops.append(OfficialStop(
                    source="naptan", stop_id=code, name=_text(row[name_column]),
                    lon=position[0], lat=position[1], level="place",
                    mode=_NAPTAN_AREA_MODES.get(stop_type),
                    extra=_kept(row, {"stop_area_type": ("StopAreaType",),
                                      "status": ("Status",)})))
                continue
            level, mode = _NAPTAN_STOP_TYPES.get(stop_type, ("platform", None))
            indicator = (row.get("Indicator") or "").strip()
            platform = _NAPTAN_PLATFORM.match(indicator)
            read.stops.append(OfficialStop(
                source="naptan", stop_id=code, name=_text(row[name_column]),
                lon=position[0], lat=position[1],
                platform_code=platform.group(1) if platform else None, atco_code=code,
                level=level, mode=mode,
                extra=_kept(row, {"indicator": ("Indicator",), "naptan_code": ("NaptanCode",),
                                  "locality": ("LocalityName",), "stop_type": ("StopType",),
                                  "status": ("Status",)})))
    return read


def _naptan_position(row: dict, has_wgs: bool, name: str, line: int):
    if has_wgs and row["Longitude"].strip() and row["Latitude"].strip():
        return (_coordinate(row["Longitude"], "Longitude", name, line, 180),
                _coordinate(row["Latitude"], "Latitude", name, line, 90))
    east, north = (row.get("Easting") or "").strip(), (row.get("Northing") or "").strip()
    if not east or not north:
        return None
    grid = (row.get("GridType") or "").strip()
    if grid not in _NAPTAN_GRIDS:
        raise InputError(f"{name} line {line}: GridType {grid!r} is not the British National "
                         "Grid (UKOS); export NaPTAN with Longitude/Latitude")
    return _projected(_NAPTAN_GRIDS[grid], _number(east, "Easting", name, line),
                      _number(north, "Northing", name, line), name, f"line {line}")


def _projected(crs: str, x: float, y: float, name: str, where: str) -> tuple[float, float]:
    try:
        return to_wgs84(crs, x, y)
    except ValueError as exc:
        raise InputError(f"{name} {where}: {exc}") from None


# --- generic CSV / GeoJSON with a column mapping ----------------------------------------

@dataclass(frozen=True)
class MappedOptions:
    """How a generic registry is read besides its column mapping.

    crs: of the coordinates (default WGS84); level: what every row is when no column says
    ("platform" by default); mode_values: the registry's own mode codes → MODES (HSL's
    network numbers, say); where: keep only rows whose column holds one of the values."""

    crs: str | None = None
    level: str = "platform"
    mode_values: Mapping[str, str] = field(default_factory=dict)
    where: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


def read_mapped_csv(path: str, mapping: Mapping[str, str], source: str = "csv",
                    delimiter: str | None = None,
                    options: MappedOptions | None = None) -> RegistryRead:
    """Any CSV: mapping says which column holds each field (at least id, lat, lon).
    The delimiter is guessed from the header line unless given."""
    name = os.path.basename(path)
    options = options or MappedOptions()
    _check_mapping(mapping, ("id", "lat", "lon"))
    with _open_text(path) as f:
        try:
            header = f.readline()
        except UnicodeDecodeError as exc:
            raise InputError(f"{name} line 1: not UTF-8 text ({exc.reason})") from None
        f.seek(0)
        sep = delimiter or max(",;\t|", key=header.count)
        rows = _Rows(f, name, sep)
        _require(rows.columns, tuple(mapping.values()) + tuple(options.where), name)
        read = RegistryRead()
        for line, row in rows:
            values = {key: row.get(column) for key, column in mapping.items()}
            refused = _refused_by(row, options.where)
            if refused:
                read.skipped.append(SkippedRow(line, _text(values["id"]), refused))
                continue
            stop = _mapped_stop(source, values, name, f"line {line}", sep != ",", options)
            if stop is None:
                read.skipped.append(SkippedRow(line, _text(values["id"]), "no coordinates"))
            else:
                read.stops.append(stop)
    return read


def read_mapped_geojson(path: str, mapping: Mapping[str, str], source: str = "geojson",
                        options: MappedOptions | None = None) -> RegistryRead:
    """A GeoJSON FeatureCollection of Points; mapping names the property of each field
    (without "id", the feature's own id is used). The CRS is the file's `crs` member when it
    has one (GeoJSON 2008), else options.crs, else WGS84."""
    name = os.path.basename(path)
    options = options or MappedOptions()
    _check_mapping(mapping, ())
    if {"lat", "lon"} & set(mapping):
        raise InputError("a GeoJSON mapping takes no lat/lon: the geometry is the position")
    try:
        with open(path, encoding="utf-8-sig") as f:
            data = json.load(f)
    except json.JSONDecodeError as exc:
        raise InputError(f"{name} line {exc.lineno}: not valid JSON ({exc.msg})") from exc
    except UnicodeDecodeError as exc:
        raise InputError(f"{name}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except ValueError:  # a number of thousands of digits, which json refuses to convert
        raise InputError(f"{name}: not valid JSON (a number too long to read)") from None
    features = data.get("features") if isinstance(data, dict) else None
    if not isinstance(features, list):
        raise InputError(f"{name}: not a GeoJSON FeatureCollection (no features list)")
    declared = ((data.get("crs") or {}).get("properties") or {}).get("name")
    if declared:
        options = MappedOptions(crs=str(declared), level=options.level,
                                mode_values=options.mode_values, where=options.where)
    read = RegistryRead()
    for number, feature in enumerate(features, start=1):
        where = f"feature {number}"
        geometry = (feature or {}).get("geometry") or {}
        if geometry.get("type") != "Point":
            raise InputError(f"{name} {where}: the geometry is not a Point")
        coordinates = geometry.get("coordinates") or []
        if len(coordinates) < 2:
            raise InputError(f"{name} {where}: a Point needs [longitude, latitude]")
        props = feature.get("properties") or {}
        values = {key: props.get(column) for key, column in mapping.items()}
        values.setdefault("id", feature.get("id"))
        values["lon"], values["lat"] = coordinates[0], coordinates[1]
        refused = _refused_by({k: "" if v is None else str(v) for k, v in props.items()},
                              options.where)
        if refused:
            read.skipped.append(SkippedRow(number, _text(str(values["id"])), refused))
            continue
        read.stops.append(_mapped_stop(source, values, name, where, False, options))
    return read


def _refused_by(row: Mapping[str, str], where: Mapping[str, tuple[str, ...]]) -> str | None:
    for column, accepted in where.items():
        value = (row.get(column) or "").strip()
        if value not in accepted:
            return f"{column}={value!r}, not one of {', '.join(accepted)}"
    return None


def _check_mapping(mapping: Mapping[str, str], required: tuple[str, ...]) -> None:
    unknown = sorted(k for k in set(mapping) - set(MAPPABLE_FIELDS)
                     if not (k.startswith(EXTRA_PREFIX) and len(k) > len(EXTRA_PREFIX)))
    if unknown:
        raise InputError(f"unknown field(s) in the column mapping: {', '.join(unknown)}; "
                         f"known: {', '.join(MAPPABLE_FIELDS)}, {EXTRA_PREFIX}<key>")
    missing = [k for k in required if k not in mapping]
    if missing:
        raise InputError(f"the column mapping lacks {', '.join(missing)}")


_UNMAPPED_TEXT = ("id", "lat", "lon", "valid_from", "valid_to", "level", "mode")


def _mapped_stop(source: str, values: dict, name: str, where: str, decimal_comma: bool,
                 options: MappedOptions) -> OfficialStop | None:
    for key, value in values.items():
        if isinstance(value, str) and "\x00" in value:
            raise InputError(f"{name} {where}: a NUL character in {key}")
    stop_id = _text(None if values.get("id") is None else str(values["id"]))
    if not stop_id:
        raise InputError(f"{name} {where}: empty stop id")
    raw_lon, raw_lat = (str(v).strip() if v is not None else "" for v in
                        (values["lon"], values["lat"]))
    if not raw_lon or not raw_lat:
        return None
    if decimal_comma:
        raw_lon, raw_lat = raw_lon.replace(",", "."), raw_lat.replace(",", ".")
    if is_wgs84(options.crs):
        lon = _coordinate(raw_lon, "lon", name, where, 180)
        lat = _coordinate(raw_lat, "lat", name, where, 90)
    else:
        lon, lat = _projected(options.crs, _number(raw_lon, "lon", name, where),
                              _number(raw_lat, "lat", name, where), name, where)
    text = {k: _text(None if v is None else str(v)) for k, v in values.items()
            if k not in _UNMAPPED_TEXT}
    level = options.level
    if values.get("level") is not None and str(values["level"]).strip():
        level = level_of(str(values["level"]))
        if level is None:
            raise InputError(f"{name} {where}: the level column is neither a stop "
                             "place (place, station, stop_area) nor a platform (platform, "
                             "quay, stop)")
    return OfficialStop(
        source=source, stop_id=stop_id, name=text.get("name"), lon=lon, lat=lat,
        platform_code=text.get("platform_code"), operator=text.get("operator"),
        valid_from=_date(values.get("valid_from"), name, where, "valid_from"),
        valid_to=_date(values.get("valid_to"), name, where, "valid_to"),
        sloid=text.get("sloid"), ifopt=text.get("ifopt"), uic_ref=text.get("uic_ref"),
        didok=text.get("didok"), gtfs_stop_id=text.get("gtfs_stop_id"),
        atco_code=text.get("atco_code"), parent_id=text.get("parent_id"), level=level,
        mode=_mapped_mode(values.get("mode"), options.mode_values),
        extra={k[len(EXTRA_PREFIX):]: v for k, v in text.items()
               if k.startswith(EXTRA_PREFIX) and v})


def _mapped_mode(value, mode_values: Mapping[str, str]) -> str | None:
    raw = "" if value is None else str(value).strip()
    if not raw:
        return None
    return mode_values[raw] if raw in mode_values else mode_of(raw)


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
            self.columns = [c.strip() for c in _without_nul(next(self.reader), name, 1)]
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
                yield line, dict(zip(self.columns, _without_nul(values, self.name, line),
                                     strict=True))
        except csv.Error as exc:
            raise InputError(f"{self.name} line {self.reader.line_num}: {exc}") from exc
        except UnicodeDecodeError as exc:
            raise InputError(f"{self.name}: not UTF-8 text ({exc.reason} at byte "
                             f"{exc.start})") from exc


def _without_nul(values: list[str], name: str, line: int) -> list[str]:
    """PostgreSQL text cannot hold NUL, and a text registry never has one: the file is
    binary or damaged. Said here, with the line, not as a database error later."""
    for column, value in enumerate(values, start=1):
        if "\x00" in value:
            raise InputError(f"{name} line {line}, column {column}: a NUL byte; the file is "
                             "binary or damaged, not CSV text")
    return values


@contextmanager
def _open_text(path: str):
    """The file as text; a zip holding one CSV (as ATLAS publishes its exports) is read
    from inside."""
    if not os.path.exists(path):
        raise InputError(f"file not found: {path}")
    if not zipfile.is_zipfile(path):
        with open(path, encoding="utf-8-sig", newline="") as f:
            yield f
        return
    try:
        with zipfile.ZipFile(path) as archive:
            member = zipped_csv(archive, os.path.basename(path))
            with archive.open(member) as raw:
                yield _decode(raw)
    except ZIP_MEMBER_ERRORS as exc:
        raise InputError(f"{os.path.basename(path)}: the zipped registry is damaged "
                         f"({type(exc).__name__})") from None


def zipped_csv(archive: zipfile.ZipFile, name: str) -> str:
    """The one CSV member of a zipped registry export."""
    members = [m for m in archive.namelist() if m.lower().endswith((".csv", ".txt"))
               and not m.endswith("/")]
    if len(members) != 1:
        raise InputError(f"{name}: a zipped registry must hold one CSV file; found "
                         f"{len(members)}" + (f" ({', '.join(members[:5])})" if members else ""))
    return members[0]


def _decode(raw):
    return io.TextIOWrapper(raw, encoding="utf-8-sig", newline="")


def _require(columns: list[str], wanted: tuple[str, ...], name: str) -> None:
    missing = [c for c in wanted if c not in columns]
    if missing:
        raise InputError(f"{name} line 1: missing column(s) {', '.join(missing)}; "
                         + _shown(columns))


def _shown(columns: list[str]) -> str:
    """How many columns the header has; never their names: the file's content stays out of
    messages (an operator could point a pipeline at a file full of secrets)."""
    return f"the header has {len(columns)} column(s)"


def _number(value: str, column: str, name: str, where) -> float:
    where = where if isinstance(where, str) else f"line {where}"
    try:
        number = float(value.strip())
    except ValueError:
        raise InputError(f"{name} {where}: {column} is not a number") from None
    if not math.isfinite(number):
        raise InputError(f"{name} {where}: {column} is not a finite number")
    return number


def _coordinate(value, column: str, name: str, where, limit: float) -> float:
    number = _number(str(value), column, name, where)
    if abs(number) > limit:
        where = where if isinstance(where, str) else f"line {where}"
        raise InputError(f"{name} {where}: {column} is outside ±{limit:g}°")
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
    raise InputError(f"{name} {where}: {column} is not a date (YYYY-MM-DD, YYYYMMDD or "
                     "DD.MM.YYYY)")


def _text(value: str | None) -> str | None:
    value = (value or "").strip()
    return value or None


def _first(row: dict, *columns: str) -> str | None:
    return next((v for v in (_text(row.get(c)) for c in columns) if v), None)


def _kept(row: dict, wanted: dict[str, tuple[str, ...]]) -> dict[str, str]:
    kept = {key: _first(row, *columns) for key, columns in wanted.items()}
    return {k: v for k, v in kept.items() if v}


__all__ = ["EXTRA_PREFIX", "MAPPABLE_FIELDS", "MappedOptions", "RegistryRead", "SkippedRow",
           "atlas_export_level", "lv95_to_wgs84",
           "osm_stop_from_reader", "read_atlas", "read_gtfs_stops", "read_mapped_csv",
           "read_mapped_geojson", "read_naptan", "read_osm_stops"]
