"""Registry coordinates in any coordinate reference system, reprojected to WGS84 by pyproj.

Registries publish in their national grids (Helsinki's HSL register in EPSG:2392, NaPTAN in
the British National Grid, EPSG:27700); the stop tables hold longitude and latitude. One
transformer per CRS is built and reused (building one costs milliseconds, using it about a
microsecond a point).
"""

from __future__ import annotations

import math
from functools import lru_cache

from pyproj import CRS, Transformer
from pyproj.exceptions import CRSError

from matching_and_import_db.errors import InputError

WGS84 = "EPSG:4326"
# OGC and GeoJSON spellings of WGS84 with longitude first
_LON_LAT = frozenset({"EPSG:4326", "OGC:CRS84", "URN:OGC:DEF:CRS:OGC:1.3:CRS84",
                      "URN:OGC:DEF:CRS:OGC::CRS84", "URN:OGC:DEF:CRS:EPSG::4326",
                      "HTTP://WWW.OPENGIS.NET/DEF/CRS/EPSG/0/4326", "WGS84"})


def is_wgs84(crs: str | None) -> bool:
    return crs is None or crs.strip().upper() in _LON_LAT


def check_crs(crs: str) -> str:
    """The CRS as given, when pyproj knows it; InputError naming it otherwise."""
    _transformer(crs.strip())
    return crs.strip()


@lru_cache(maxsize=32)
def _transformer(crs: str) -> Transformer:
    try:
        source = CRS.from_user_input(crs)
    except CRSError as exc:
        raise InputError(f"unknown coordinate reference system {crs!r} (write it as "
                         "EPSG:<code>, e.g. EPSG:2392)") from exc
    # always_xy: x is easting (or longitude) and y northing (or latitude), whatever order
    # the CRS's axes are declared in
    return Transformer.from_crs(source, WGS84, always_xy=True)


def to_wgs84(crs: str | None, x: float, y: float) -> tuple[float, float]:
    """(longitude, latitude) of a point given as x (easting) and y (northing) in crs."""
    if is_wgs84(crs):
        return x, y
    lon, lat = _transformer(crs.strip()).transform(x, y)
    if not (math.isfinite(lon) and math.isfinite(lat)) or abs(lat) > 90:
        raise ValueError(f"({x}, {y}) is outside the area of {crs}")
    return lon, lat


@lru_cache(maxsize=32)
def _authority_transformer(crs: str) -> Transformer:
    try:
        source = CRS.from_user_input(crs)
    except CRSError as exc:
        raise InputError(f"unknown coordinate reference system {crs!r}") from exc
    return Transformer.from_crs(source, WGS84)  # both sides in their declared axis order


def pos_to_wgs84(crs: str | None, first: float, second: float) -> tuple[float, float]:
    """(longitude, latitude) of a GML `pos`, whose numbers follow the axis order the CRS
    declares (latitude first for EPSG:4326, easting first for UTM). Without a CRS, GML
    positions in NeTEx are WGS84 latitude, longitude."""
    lat, lon = _authority_transformer((crs or WGS84).strip()).transform(first, second)
    if not (math.isfinite(lon) and math.isfinite(lat)) or abs(lat) > 90:
        raise ValueError(f"({first}, {second}) is outside the area of {crs}")
    return lon, lat
