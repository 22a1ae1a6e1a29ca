"""The dataset reader's binary COPY encoding: every column type it writes, NULLs and
edge values included, arrives in PostgreSQL as the same values its text input gives."""

from __future__ import annotations

import datetime as dt
from io import BytesIO

import pyarrow as pa
import shapely
from psycopg2 import sql

from matching_and_import_db.datasets import binary_copy

UTC = dt.UTC
COLUMNS = [
    ("bigint", pa.array([1, None, -(2 ** 63), 2 ** 63 - 1], pa.int64())),
    ("double precision", pa.array([0.1, None, -1e300, float("inf")], pa.float64())),
    ("boolean", pa.array([True, False, None, True], pa.bool_())),
    ("date", pa.array([dt.date(2026, 12, 1), dt.date(1969, 7, 20), None,
                       dt.date(2000, 1, 1)], pa.date32())),
    ("timestamptz", pa.array([dt.datetime(2026, 12, 1, 16, 5, 30, 250_000),
                              dt.datetime(1970, 1, 1), None,
                              dt.datetime(1999, 12, 31, 23, 59, 59)], pa.timestamp("ms"))),
    ("text", pa.array(["Bahnhofstraße", "", None, 'a "quoted", \\ line\nbreak'], pa.string())),
]
SHAPES = shapely.from_wkt(["POINT (7.77 49.44)", "LINESTRING (0 0, 1 1)",
                           "POLYGON ((0 0, 1 0, 1 1, 0 0))",
                           "MULTIPOLYGON (((0 0, 4 0, 4 4, 0 0), (1 1, 2 1, 2 2, 1 1)))"])


def test_every_type_round_trips_through_binary_copy(db_conn):
    names = [f"c{i}" for i in range(len(COLUMNS))]
    fields = [binary_copy.field(values, kind) for kind, values in COLUMNS]
    fields.append(binary_copy.field(pa.array(shapely.to_wkb(SHAPES), pa.binary()),
                                    "geometry"))
    with db_conn.cursor() as cur:
        cur.execute("SET TIME ZONE 'UTC'")
        cur.execute(sql.SQL("CREATE TEMP TABLE t ({}, geom geometry(Geometry, 4326))").format(
            sql.SQL(", ").join(sql.SQL("{} {}").format(sql.Identifier(n), sql.SQL(kind))
                               for n, (kind, _) in zip(names, COLUMNS, strict=True))))
        cur.copy_expert("COPY t FROM STDIN WITH (FORMAT binary)",
                        BytesIO(binary_copy.copy_data(fields)))
        cur.execute(sql.SQL("SELECT {}, ST_AsText(geom), ST_SRID(geom) FROM t").format(
            sql.SQL(", ").join(map(sql.Identifier, names))))
        rows = cur.fetchall()
    db_conn.rollback()
    want = list(zip(*[values.to_pylist() for _, values in COLUMNS], strict=True))
    for got, expected, shape in zip(rows, want, SHAPES, strict=True):
        *values, wkt, srid = got
        stamp = expected[4]
        assert values == [*expected[:4], stamp and stamp.replace(tzinfo=UTC), expected[5]]
        assert shapely.equals_exact(shapely.from_wkt(wkt), shape, 0) and srid == 4326
