"""The settings of a stops import that say how the registry is read and which of its rows
are matched (the rest of the configuration is checked in stops.pipeline).

Reading, for the generic formats (csv, geojson): `crs` of the coordinates, `level` of every
row, `mode_values` (the registry's mode codes → MODES), `where` (keep rows whose column
holds one of the values). Scope, for every format: `coverage` ("osm": only rows within the
area the published OSM data covers, the default; "all"), `coverage_margin_m`, `countries`,
`stop_points_only`.
"""

from __future__ import annotations

from matching_and_import_db.errors import InputError
from matching_and_import_db.stops import scope
from matching_and_import_db.stops.crs import check_crs
from matching_and_import_db.stops.modes import MODES
from matching_and_import_db.stops.readers import MappedOptions
from matching_and_import_db.stops.registry_modes import LEVELS

READING_KEYS = ("crs", "level", "mode_values", "where")
COVERAGES = ("osm", "all")
MAX_MARGIN_M = 50_000


def validate_reading(config: dict, fmt: str, mapped: bool) -> dict:
    out: dict = {}
    given = [k for k in READING_KEYS if config.get(k) is not None]
    if given and not mapped:
        raise InputError(f"format {fmt} takes no {', '.join(given)} (only csv and geojson "
                         "do: the other formats say it themselves)")
    if config.get("crs") is not None:
        if not isinstance(config["crs"], str) or not config["crs"].strip():
            raise InputError("crs must be a coordinate reference system such as EPSG:2392")
        out["crs"] = check_crs(config["crs"])
    if config.get("level") is not None:
        if config["level"] not in LEVELS:
            raise InputError(f"level must be one of {', '.join(LEVELS)}: what every row is "
                             "(a stop place or a platform)")
        out["level"] = config["level"]
    values = config.get("mode_values")
    if values is not None:
        if not isinstance(values, dict) or not all(
                isinstance(k, str) and v in MODES for k, v in values.items()):
            raise InputError("mode_values must map the registry's codes to modes, e.g. "
                             f'{{"1": "bus", "3": "tram"}}; modes: {", ".join(MODES)}')
        out["mode_values"] = dict(values)
    where = config.get("where")
    if where is not None:
        if not isinstance(where, dict) or not where or not all(
                isinstance(k, str) and k and _values(v) for k, v in where.items()):
            raise InputError('where must map columns to the values to keep, e.g. '
                             '{"REI_VOIM": "1"} or {"status": ["active", "new"]}')
        out["where"] = {k: list(_values(v)) for k, v in where.items()}
    return out


def _values(value) -> tuple[str, ...]:
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not items or not all(isinstance(v, str) for v in items):
        return ()
    return tuple(items)


def validate_scope(config: dict) -> dict:
    out: dict = {}
    coverage = config.get("coverage")
    if coverage is not None:
        if coverage not in COVERAGES:
            raise InputError(f"coverage must be one of {', '.join(COVERAGES)} (osm, the "
                             "default: only the registry rows within the area of the "
                             "published OSM data)")
        out["coverage"] = coverage
    margin = config.get("coverage_margin_m")
    if margin is not None:
        if (isinstance(margin, bool) or not isinstance(margin, int | float)
                or not 0 <= margin <= MAX_MARGIN_M):
            raise InputError(f"coverage_margin_m must be a distance in metres, 0 to "
                             f"{MAX_MARGIN_M}")
        out["coverage_margin_m"] = float(margin)
    countries = config.get("countries")
    if countries is not None:
        if (not isinstance(countries, list) or not countries
                or not all(isinstance(c, str) and c.strip() for c in countries)):
            raise InputError('countries must be a list of country codes, e.g. ["CH", "LI"]')
        out["countries"] = sorted(scope.countries(countries))
    only = config.get("stop_points_only")
    if only is not None:
        if not isinstance(only, bool):
            raise InputError("stop_points_only must be true or false")
        out["stop_points_only"] = only
    return out


def mapped_options(config: dict) -> MappedOptions:
    return MappedOptions(crs=config.get("crs"), level=config.get("level") or "platform",
                         mode_values=config.get("mode_values") or {},
                         where={k: tuple(v) for k, v in (config.get("where") or {}).items()})
