"""A batch's geometries as GDAL gives them (an Arrow column of ISO WKB), made ready for
COPY: 2D, their bounds, the tile geometry (EPSG:3857) beside them, and whether PostGIS's
binary input takes them (else they go as hex text).

Most datasets are points, lines or one-ring polygons. Their WKB is a header and then the
coordinates in one block, so the whole batch is handled as numpy arrays over the WKB
buffer (`Simple`); other shapes (holes, multi-part, 3D, collections) go through shapely.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyproj
import shapely

# ISO WKB's header bytes of the shapes whose coordinates follow it in one block: order and
# type, then the number of points (LineString) or of rings and points (Polygon, one ring)
POINT, LINE, POLYGON = 1, 2, 3
HEADER = {POINT: 5, LINE: 9, POLYGON: 13}
# the fewest points PostGIS's binary input takes (a ring also has to be closed)
FEWEST = {POINT: 1, LINE: 2, POLYGON: 4}


def plain_binary(wkb: pa.Array) -> pa.Array:
    """A binary column whose buffers hold just its own values (not a slice's, not 64-bit
    offsets), so that they can be read as numpy arrays."""
    wkb = wkb.cast(pa.binary()) if wkb.type != pa.binary() else wkb
    if wkb.offset or np.frombuffer(wkb.buffers()[1], dtype=np.int32)[0]:
        wkb = pa.array(wkb.to_pylist(), pa.binary())
    return wkb


def _offsets(wkb: pa.Array) -> np.ndarray:
    return np.frombuffer(wkb.buffers()[1], dtype=np.int32)[:len(wkb) + 1].astype(np.int64)


def _data(wkb: pa.Array) -> np.ndarray:
    buffer = wkb.buffers()[2]
    data = np.frombuffer(buffer, dtype=np.uint8) if buffer else np.zeros(0, np.uint8)
    return data[:_offsets(wkb)[-1]]


def _u32(head: np.ndarray, at: int) -> np.ndarray:
    return np.ascontiguousarray(head[:, at:at + 4]).view("<u4").ravel().astype(np.int64)


@dataclass(frozen=True)
class Simple:
    """A batch of 2D little-endian points, lines and closed one-ring polygons that PostGIS's
    binary input takes: where their coordinates lie in the WKB buffer and what they are."""
    mask: np.ndarray  # the coordinate bytes of the buffer
    xy: np.ndarray  # every coordinate, (n, 2), in order
    first: np.ndarray  # the index in xy of each feature's first coordinate

    def bounds(self) -> np.ndarray:
        """(minx, miny, maxx, maxy) of each feature."""
        return np.column_stack([np.minimum.reduceat(self.xy[:, 0], self.first),
                                np.minimum.reduceat(self.xy[:, 1], self.first),
                                np.maximum.reduceat(self.xy[:, 0], self.first),
                                np.maximum.reduceat(self.xy[:, 1], self.first)])


def simple(wkb: pa.Array) -> Simple | None:
    """The batch read from its WKB bytes alone, when every feature is a simple shape
    (see Simple); None otherwise. The header's counts are checked against each value's
    length, so nothing else can pass for one."""
    if wkb.null_count or not len(wkb):
        return None
    offsets, data = _offsets(wkb), _data(wkb)
    sizes = np.diff(offsets)
    if (sizes < 21).any():  # the smallest: a point; every header then has 13 bytes to read
        return None
    head = data[offsets[:-1, None] + np.arange(13)]
    kind, n1, n2 = _u32(head, 1), _u32(head, 5), _u32(head, 9)
    counts = np.select([kind == POINT, kind == LINE, kind == POLYGON], [1, n1, n2], 0)
    header = np.select([kind == k for k in HEADER], list(HEADER.values()), 0)
    fewest = np.select([kind == k for k in FEWEST], list(FEWEST.values()), 1)
    if not ((head[:, 0] == 1) & (header > 0) & ((kind != POLYGON) | (n1 == 1))
            & (counts >= fewest) & (sizes == header + 16 * counts)).all():
        return None
    mask = np.repeat(np.tile([False, True], len(sizes)),
                     np.column_stack((header, 16 * counts)).ravel())
    xy = data[mask].view("<f8").reshape(-1, 2)
    first = np.concatenate(([0], np.cumsum(counts)[:-1]))
    rings = first[kind == POLYGON]
    last = rings + counts[kind == POLYGON] - 1
    if not (xy[rings] == xy[last]).all():  # an open ring: GEOS says what is wrong
        return None
    return Simple(mask, xy, first)


def shapes_2d(wkb: pa.Array) -> tuple[np.ndarray, pa.Array]:
    """(shapely shapes, WKB) without Z: GDAL's own 2D WKB goes as it is (PostGIS gives an
    SRID-less geometry its column's SRID); 3D geometries are made 2D. A geometry GEOS
    cannot read is None (the reader names it)."""
    shapes = shapely.from_wkb(wkb.to_numpy(zero_copy_only=False), on_invalid="ignore")
    if shapely.is_missing(shapes).any():
        return shapes, wkb
    if not shapely.has_z(shapes).any():
        return shapes, wkb
    flat = shapely.force_2d(shapes)
    return flat, pa.array(shapely.to_wkb(flat, output_dimension=2), pa.binary())


def binary_input_takes(shapes: np.ndarray) -> bool:
    """Whether PostGIS's binary input (geometry `recv`) takes every shape: unlike its text
    input (hex WKB, what ogr2ogr sends) it refuses rings of fewer than 4 points, which
    real data has (GEOS has already refused what neither takes: open rings, one-point
    lines). Collections are not looked into: they go as text."""
    kinds = shapely.get_type_id(shapes)
    if (kinds == 7).any():
        return False
    polygonal = shapes[(kinds == 3) | (kinds == 6)]
    if not len(polygonal):
        return True
    # the rings' points, counted from the coordinate offsets (no ring made as a geometry)
    ring_offsets = shapely.to_ragged_array(polygonal, include_z=False)[2][0]
    return bool((np.diff(ring_offsets) >= 4).all())


def web_mercator(to_3857: pyproj.Transformer, wkb: pa.Array, batch: Simple | None,
                 shapes: np.ndarray | None) -> pa.Array:
    """The tile geometry (EPSG:3857) of longitude/latitude features as WKB, computed here
    beside the reading: PostGIS's ST_Transform costs about 4 µs a feature in the COPY,
    on the server's one core. A simple batch is transformed in a copy of its WKB buffer,
    others through shapely's coordinates. The coordinates are those PostGIS would
    compute: both ask PROJ."""
    xy = batch.xy if batch is not None else shapely.get_coordinates(shapes)
    coords = np.column_stack(to_3857.transform(xy[:, 0], xy[:, 1]))
    if batch is None:
        return pa.array(shapely.to_wkb(shapely.set_coordinates(shapes.copy(), coords),
                                       output_dimension=2), pa.binary())
    out = _data(wkb).copy()
    out[batch.mask] = coords.astype("<f8").view(np.uint8).ravel()
    return pa.Array.from_buffers(pa.binary(), len(wkb),
                                 [None, wkb.buffers()[1], pa.py_buffer(out)])


# two lower-case hex digits per byte value, as one little-endian uint16 each
_HEX_DIGITS = np.frombuffer(b"".join(b"%02x" % i for i in range(256)), dtype=np.uint16)


def hex_text(wkb: pa.Array) -> pa.Array:
    """A plain binary column as hex text, by one table lookup over its whole buffer."""
    return pa.StringArray.from_buffers(len(wkb), pa.py_buffer(_offsets(wkb).astype(np.int32) * 2),
                                       pa.py_buffer(_HEX_DIGITS[_data(wkb)].tobytes()))
