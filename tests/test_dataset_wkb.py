"""The reader's fast way over a batch's WKB (datasets/wkb.py) takes exactly the shapes
whose WKB is a header then one block of coordinates, reads them as GEOS does, and leaves
every other shape to shapely."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyproj
import shapely

from matching_and_import_db.datasets import wkb

SIMPLE = ["POINT (10.75 59.91)", "LINESTRING (10.7 59.9, 10.8 59.95, 10.9 59.9)",
          "POLYGON ((10.7 59.9, 10.8 59.9, 10.8 60, 10.7 59.9))"]
NOT_SIMPLE = ["POLYGON ((0 0, 4 0, 4 4, 0 0), (1 1, 2 1, 2 2, 1 1))",  # a courtyard
              "MULTIPOINT (1 2, 3 4)", "POINT Z (1 2 3)",
              "GEOMETRYCOLLECTION (POINT (1 2))"]


def _column(wkts: list[str], **to_wkb) -> pa.Array:
    return pa.array(shapely.to_wkb(shapely.from_wkt(wkts), **to_wkb), pa.binary())


def test_simple_shapes_are_read_from_their_bytes_as_geos_reads_them():
    shapes = shapely.from_wkt(SIMPLE * 3)
    batch = wkb.simple(_column(SIMPLE * 3))
    assert batch is not None
    assert np.array_equal(batch.xy, shapely.get_coordinates(shapes))
    assert np.array_equal(batch.bounds(), shapely.bounds(shapes))
    to_3857 = pyproj.Transformer.from_crs(4326, 3857, always_xy=True)
    fast = wkb.web_mercator(to_3857, _column(SIMPLE * 3), batch, None)
    slow = wkb.web_mercator(to_3857, _column(SIMPLE * 3), None, shapes)
    assert fast.to_pylist() == slow.to_pylist()


def test_anything_else_in_a_batch_leaves_it_to_shapely():
    for other in NOT_SIMPLE:
        assert wkb.simple(_column([*SIMPLE, other])) is None, other
    assert wkb.simple(_column(SIMPLE, byte_order=0)) is None  # big-endian
    # PostGIS's binary input refuses a ring of three points; GEOS reads it
    assert wkb.simple(_column(["POLYGON ((0 0, 1 1, 0 0))"])) is None
    assert not wkb.binary_input_takes(shapely.from_wkt(["POLYGON ((0 0, 1 1, 0 0))"]))
    assert wkb.binary_input_takes(shapely.from_wkt(NOT_SIMPLE[:3]))
