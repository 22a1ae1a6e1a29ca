"""Arrow columns as PostgreSQL's binary COPY format, built by Arrow and numpy for a whole
batch at once (no Python loop per feature).

Binary COPY costs the server about a third of what CSV does for a dataset's rows: nothing
to split or unquote, geometries arrive as WKB (not hex to decode), numbers as their bytes.
The format (https://www.postgresql.org/docs/current/sql-copy.html, "Binary Format"): a
19-byte header, then per row a 16-bit field count and per field a 32-bit length (-1 for
NULL) and the value in the type's binary (`recv`) form, big-endian; then -1 as a 16-bit
trailer. PostGIS's geometry `recv` reads (E)WKB: an SRID-less geometry takes its
column's SRID, as in the text form.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

HEADER = b"PGCOPY\n\xff\r\n\x00" + b"\x00" * 8  # signature, flags, no header extension
TRAILER = b"\xff\xff"
NULL = b"\xff\xff\xff\xff"  # a field's length of -1
EPOCH_DAYS = 10_957  # PostgreSQL counts dates and times from 2000-01-01, Arrow from 1970
EPOCH_US = EPOCH_DAYS * 86_400 * 1_000_000


def _each(values: np.ndarray) -> pa.Array:
    """A numpy array's elements, each as its bytes, as an Arrow binary array."""
    return pa.FixedSizeBinaryArray.from_buffers(
        pa.binary(values.dtype.itemsize), len(values), [None, pa.py_buffer(values.tobytes())]
    ).cast(pa.binary())


def _fixed(values: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
    """Fields of a fixed-width big-endian type: the length, then the bytes."""
    rows = np.empty(len(values), dtype=[("length", ">i4"), ("value", values.dtype)])
    rows["length"] = values.dtype.itemsize
    rows["value"] = values
    fields = _each(rows)
    if valid is None or valid.all():
        return fields
    return pc.if_else(pa.array(valid), fields, pa.scalar(NULL, pa.binary()))


def _variable(values: pa.Array) -> pa.Array:
    """Fields of bytes (text as UTF-8, geometry as WKB): the length, then the bytes."""
    values = values.cast(pa.binary())
    lengths = pc.binary_length(values).fill_null(0).to_numpy(zero_copy_only=False)
    return pc.binary_join_element_wise(_each(lengths.astype(">i4")), values,
                                       b"").fill_null(NULL)


def field(values: pa.Array, pg_type: str) -> pa.Array:
    """One column's fields, from an Arrow array already of the type's Arrow type (the
    reader's ARROW_TYPES)."""
    valid = values.is_valid().to_numpy(zero_copy_only=False)
    if pg_type in ("text", "geometry"):
        return _variable(values)
    if pg_type == "bigint":
        return _fixed(pc.fill_null(values, 0).to_numpy().astype(">i8"), valid)
    if pg_type == "double precision":
        return _fixed(pc.fill_null(values, 0.0).to_numpy().astype(">f8"), valid)
    if pg_type == "boolean":
        return _fixed(pc.fill_null(values, False).to_numpy(zero_copy_only=False)
                      .astype(">u1"), valid)
    if pg_type == "date":
        days = pc.fill_null(values.cast(pa.int32()), 0).to_numpy()
        return _fixed((days - EPOCH_DAYS).astype(">i4"), valid)
    if pg_type == "timestamptz":
        micros = pc.fill_null(values.cast(pa.timestamp("us")).cast(pa.int64()), 0).to_numpy()
        return _fixed((micros - EPOCH_US).astype(">i8"), valid)
    raise ValueError(pg_type)


def copy_data(fields: list[pa.Array]) -> bytes:
    """A whole COPY ... FROM STDIN WITH (FORMAT binary) stream of the rows."""
    rows = pc.binary_join_element_wise(_each(np.full(len(fields[0]), len(fields), ">i2")),
                                       *fields, b"")
    offsets = np.frombuffer(rows.buffers()[1], dtype=np.int32)
    body = rows.buffers()[2][offsets[rows.offset]:offsets[rows.offset + len(rows)]]
    return HEADER + body.to_pybytes() + TRAILER
