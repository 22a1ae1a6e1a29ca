"""The OSM base tile: roads and stops from our own database, as Mapbox vector tiles."""

from __future__ import annotations

from importlib import resources

from app.extensions import db
from matching_and_import_db.errors import InputError

MAJOR_ROADS = ["motorway", "trunk", "primary", "secondary", "tertiary", "motorway_link",
               "trunk_link", "primary_link", "secondary_link", "tertiary_link"]
_SQL = resources.files("app.maps").joinpath("sql", "osm_tile.sql")
WORLD_METERS = 40075016.68557849


def osm_tile(z: int, x: int, y: int) -> bytes:
    if not 0 <= z <= 22 or not (0 <= x < 2 ** z and 0 <= y < 2 ** z):
        raise InputError(f"no tile {z}/{x}/{y}: x and y must lie in 0..2^z-1, z in 0..22")
    tolerance = WORLD_METERS / 2 ** z / 4096 / 2  # half a tile pixel: invisible, much smaller
    conn = db.session.connection().connection.driver_connection
    with conn.cursor() as cur:
        cur.execute(_SQL.read_text(), {"z": z, "x": x, "y": y, "tolerance": tolerance,
                                       "major": MAJOR_ROADS})
        data = cur.fetchone()[0]
    return bytes(data) if data else b""
