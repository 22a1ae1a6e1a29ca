"""Map tiles from our own database: the OSM base (roads, stops) and the ride results."""

from __future__ import annotations

from functools import cache
from importlib import resources

from app.extensions import db
from matching_and_import_db.errors import InputError

MAJOR_ROADS = ["motorway", "trunk", "primary", "secondary", "tertiary", "motorway_link",
               "trunk_link", "primary_link", "secondary_link", "tertiary_link"]
WORLD_METERS = 40075016.68557849


def osm_tile(z: int, x: int, y: int) -> bytes:
    return _tile("osm_tile.sql", z, x, y, major=MAJOR_ROADS)


def rides_tile(z: int, x: int, y: int) -> bytes:
    """Road statistics and events of public rides only: tiles are the same for everyone."""
    return _tile("rides_tile.sql", z, x, y)


def _tile(sql_name: str, z: int, x: int, y: int, **params) -> bytes:
    if not 0 <= z <= 22 or not (0 <= x < 2 ** z and 0 <= y < 2 ** z):
        raise InputError(f"no tile {z}/{x}/{y}: x and y must lie in 0..2^z-1, z in 0..22")
    tolerance = WORLD_METERS / 2 ** z / 4096 / 2  # half a tile pixel: invisible, much smaller
    conn = db.session.connection().connection.driver_connection
    with conn.cursor() as cur:
        cur.execute(_sql(sql_name), {"z": z, "x": x, "y": y, "tolerance": tolerance, **params})
        data = cur.fetchone()[0]
    return bytes(data) if data else b""


@cache
def _sql(name: str) -> str:
    return resources.files("app.maps").joinpath("sql", name).read_text()
