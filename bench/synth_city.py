"""The synthetic city the serving and ride-processing benchmarks run on, generated here so
that a benchmark needs nothing from outside the repository.

A square of 66 km a side in web-mercator metres (EPSG:3857) centred on Berlin
(13.40 E, 52.52 N), about 40 x 40 km on the ground, holding:

- 300,000 road segments: a random walk of 2 to 10 vertices (the count cycles with the id,
  mean 6) from a start spread evenly over the square, each step up to 150 m along each
  axis; highway motorway, primary, secondary, tertiary and footway one in ten each,
  residential three in ten, service two in ten; maxspeed 30 (a quarter), 50 (three
  eighths), 70, 100 or 130 (an eighth each); one in five oneway; 5,000 street names;
- 200,000 buildings: rectangles of 10 to 50 m a side turned by a random angle about
  their first corner, 1 to 12 levels, a use;
- 100,000 points of interest of four kinds.

That is the shape of the city the README's benchmark figures were first measured on (same
size, extent, road classes, segment lengths and vertex counts), so figures stay comparable.

Deterministic: every draw is `random.Random(seed).random()`, whose sequence Python keeps
for a given seed across versions (PostgreSQL's own random() changed generator in 15), and
roads, buildings and points each draw from their own stream, so the roads are the same
whether or not the rest is made. Same seed, same rows, on every machine.

    python bench/synth_city.py POSTGRES_URL   # the whole city as tables synth_roads,
                                              # synth_buildings and synth_points
"""

from __future__ import annotations

import math
import random
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import NamedTuple

import psycopg2
from psycopg2 import sql

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from matching_and_import_db.copy import CopyPipe  # noqa: E402

CENTRE_3857 = (1491681.0, 6893050.0)  # 13.40 E, 52.52 N
HALF_SIDE_M = 33000.0
ROADS, BUILDINGS, POINTS = 300_000, 200_000, 100_000
SEED = 42

# classes in the proportions of a city's road list: one entry per tenth
HIGHWAYS = ("motorway", "primary", "secondary", "tertiary", "residential", "residential",
            "residential", "service", "service", "footway")
MAXSPEEDS = (30, 30, 50, 50, 50, 70, 100, 130)  # one entry per eighth
STEP_M = 150.0
STREET_NAMES = 5000
BUILDING_USES = ("residential", "commercial", "industrial", "public")
POINT_KINDS = ("cafe", "shop", "school", "stop")


class Road(NamedTuple):
    id: int
    highway: str
    name: str
    oneway: bool
    maxspeed: int
    wkt_3857: str


class Building(NamedTuple):
    id: int
    levels: int
    use: str
    wkt_3857: str


class Point(NamedTuple):
    id: int
    kind: str
    wkt_3857: str


def _pick(rnd: random.Random, options: tuple):
    return options[int(rnd.random() * len(options))]


def _spot(rnd: random.Random) -> tuple[float, float]:
    """A place spread evenly over the square."""
    return (CENTRE_3857[0] + (rnd.random() - 0.5) * 2 * HALF_SIDE_M,
            CENTRE_3857[1] + (rnd.random() - 0.5) * 2 * HALF_SIDE_M)


def _wkt(kind: str, coords: Iterable[tuple[float, float]]) -> str:
    inner = ",".join(f"{x:.2f} {y:.2f}" for x, y in coords)
    return f"{kind}(({inner}))" if kind == "POLYGON" else f"{kind}({inner})"


def roads(count: int = ROADS, seed: int = SEED) -> Iterator[Road]:
    rnd = random.Random(seed)
    for rid in range(1, count + 1):
        highway = _pick(rnd, HIGHWAYS)
        maxspeed = _pick(rnd, MAXSPEEDS)
        oneway = rnd.random() < 0.2
        x, y = _spot(rnd)
        coords = []
        for _ in range(2 + rid % 9):
            x += (rnd.random() - 0.5) * 2 * STEP_M
            y += (rnd.random() - 0.5) * 2 * STEP_M
            coords.append((x, y))
        yield Road(rid, highway, f"Street {rid % STREET_NAMES}", oneway, maxspeed,
                   _wkt("LINESTRING", coords))


def buildings(count: int = BUILDINGS, seed: int = SEED) -> Iterator[Building]:
    rnd = random.Random(seed + 1)
    for bid in range(1, count + 1):
        levels = 1 + int(rnd.random() * 12)
        use = _pick(rnd, BUILDING_USES)
        x0, y0 = _spot(rnd)
        width, depth = 10 + rnd.random() * 40, 10 + rnd.random() * 40
        turn = rnd.random() * math.pi
        cos, sin = math.cos(turn), math.sin(turn)
        corners = [(0, 0), (width, 0), (width, depth), (0, depth), (0, 0)]
        ring = [(x0 + dx * cos - dy * sin, y0 + dx * sin + dy * cos) for dx, dy in corners]
        yield Building(bid, levels, use, _wkt("POLYGON", ring))


def points(count: int = POINTS, seed: int = SEED) -> Iterator[Point]:
    rnd = random.Random(seed + 2)
    for pid in range(1, count + 1):
        kind = _pick(rnd, POINT_KINDS)
        yield Point(pid, kind, _wkt("POINT", [_spot(rnd)]))


def _copy(cur, table: str, columns: tuple[str, ...], rows: Iterable[tuple]) -> None:
    """COPY rows through the importers' own pipe: made here while the server ingests."""
    with CopyPipe(cur, batch_rows=10_000) as pipe:
        writer = pipe.table(table, columns)
        for row in rows:
            writer.add(row)


def _staged_roads(cur, count: int, seed: int) -> None:
    cur.execute("CREATE TEMP TABLE synth_roads_wkt (id bigint, highway text, name text, "
                "oneway boolean, maxspeed int, wkt_3857 text) ON COMMIT DROP")
    _copy(cur, "synth_roads_wkt", Road._fields, roads(count, seed))


def load_roads_as_osm_roads(dsn: str, id_offset: int = 0, count: int = ROADS,
                            seed: int = SEED) -> int:
    """The city's roads as published OSM roads (osm_id = id + id_offset), in one
    transaction; returns how many."""
    conn = psycopg2.connect(dsn)
    try:
        with conn, conn.cursor() as cur:
            _staged_roads(cur, count, seed)
            cur.execute("""
                INSERT INTO osm_roads (osm_id, highway, name, oneway, maxspeed, cycleway, geom)
                SELECT id + %s, highway, name, CASE WHEN oneway THEN 'yes' END,
                       maxspeed::text, '{}', ST_Transform(ST_GeomFromText(wkt_3857, 3857), 4326)
                FROM synth_roads_wkt ORDER BY id""", (id_offset,))
            loaded = cur.rowcount
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute("VACUUM ANALYZE osm_roads")
        return loaded
    finally:
        conn.close()


def write_city(dsn: str, seed: int = SEED) -> dict[str, int]:
    """The whole city as plain tables synth_roads, synth_buildings and synth_points
    (geometry in EPSG:4326 and 3857, GiST-indexed), replacing them if they exist."""
    conn = psycopg2.connect(dsn)
    try:
        with conn, conn.cursor() as cur:
            _staged_roads(cur, ROADS, seed)
            cur.execute("""
                DROP TABLE IF EXISTS synth_roads, synth_buildings, synth_points;
                CREATE TABLE synth_roads AS
                SELECT id, highway, name, oneway, maxspeed,
                       ST_GeomFromText(wkt_3857, 3857)::geometry(LineString, 3857) AS geom_3857
                FROM synth_roads_wkt ORDER BY id;
                CREATE TEMP TABLE synth_buildings_wkt (id bigint, levels int, use text,
                                                       wkt_3857 text) ON COMMIT DROP;
                CREATE TEMP TABLE synth_points_wkt (id bigint, kind text, wkt_3857 text)
                    ON COMMIT DROP""")
            _copy(cur, "synth_buildings_wkt", Building._fields, buildings(seed=seed))
            _copy(cur, "synth_points_wkt", Point._fields, points(seed=seed))
            cur.execute("""
                CREATE TABLE synth_buildings AS
                SELECT id, levels, use,
                       ST_GeomFromText(wkt_3857, 3857)::geometry(Polygon, 3857) AS geom_3857
                FROM synth_buildings_wkt ORDER BY id;
                CREATE TABLE synth_points AS
                SELECT id, kind,
                       ST_GeomFromText(wkt_3857, 3857)::geometry(Point, 3857) AS geom_3857
                FROM synth_points_wkt ORDER BY id""")
            counts = {}
            for table, kind in (("synth_roads", "LineString"), ("synth_buildings", "Polygon"),
                                ("synth_points", "Point")):
                name = sql.Identifier(table)
                cur.execute(sql.SQL(
                    "ALTER TABLE {} ADD PRIMARY KEY (id), ADD COLUMN geom geometry({}, 4326) "
                    "GENERATED ALWAYS AS (ST_Transform(geom_3857, 4326)) STORED"
                ).format(name, sql.SQL(kind)))  # kind: one of the three literals above
                cur.execute(sql.SQL("CREATE INDEX ON {} USING gist (geom)").format(name))
                cur.execute(sql.SQL("CREATE INDEX ON {} USING gist (geom_3857)").format(name))
                cur.execute(sql.SQL("SELECT count(*) FROM {}").format(name))
                counts[table] = cur.fetchone()[0]
        return counts
    finally:
        conn.close()


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit(__doc__.rsplit("\n\n", 1)[1])
    print(write_city(sys.argv[1]))
