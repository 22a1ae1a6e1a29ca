"""Reading a dataset's files through GDAL (pyogrio): the inferred schema, then the features
as binary COPY data. No format is parsed here: GDAL's drivers read GeoJSON, CSV, GeoPackage,
Shapefile, KML/KMZ, GML, FlatGeobuf and OSM alike.

Column names are made safe once, here (lower-case letters, digits and _), so that a name
can be a table column, a vector tile property and a URL filter without quoting surprises.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyogrio
import pyproj
import shapely
from shapely.geometry import mapping

from matching_and_import_db.datasets import binary_copy
from matching_and_import_db.datasets.config import DatasetConfig
from matching_and_import_db.datasets.fetch import Fetcher, SourceFile
from matching_and_import_db.errors import InputError

RESERVED = {"fid", "geom", "geom_3857"}
BATCH = 65_536  # features per Arrow batch and COPY chunk
LON_NAMES = "lon,lng,long,longitude,x,x_coord,easting"
LAT_NAMES = "lat,latitude,y,y_coord,northing"
WKT_NAMES = "wkt,geometry,geom,the_geom,wkt_geom"
# widening when pages of one source disagree: an int column that has a float page is float
WIDER = {("bigint", "double precision"): "double precision"}


@dataclass(frozen=True)
class Column:
    name: str  # the safe name: table column, tile property, URL filter
    type: str  # bigint | double precision | boolean | date | timestamptz | text
    source: str  # the name in the file


@dataclass(frozen=True)
class Schema:
    columns: tuple[Column, ...]
    srid: int
    geometry_type: str  # Point | LineString | Polygon | ... | Geometry (mixed)

    def as_json(self) -> list[list[str]]:
        return [[c.name, c.type] for c in self.columns]


def _pg_type(kind: pa.DataType) -> str:
    if pa.types.is_integer(kind):
        return "bigint"
    if pa.types.is_floating(kind) or pa.types.is_decimal(kind):
        return "double precision"
    if pa.types.is_boolean(kind):
        return "boolean"
    if pa.types.is_date(kind):
        return "date"
    if pa.types.is_timestamp(kind):
        return "timestamptz"
    return "text"


# the Arrow type each column is cast to before it is encoded for COPY (binary_copy.py)
ARROW_TYPES = {"bigint": pa.int64(), "double precision": pa.float64(), "boolean": pa.bool_(),
               "date": pa.date32(), "timestamptz": pa.timestamp("ms"), "text": pa.string()}


def safe_names(names) -> list[str]:
    out: list[str] = []
    for raw in names:
        name = re.sub(r"[^a-z0-9_]+", "_", str(raw).strip().lower()).strip("_") or "column"
        if name[0].isdigit():
            name = "c_" + name
        name = name[:55]
        if name in RESERVED:
            name += "_src"
        base, n = name, 2
        while name in out:
            name, n = f"{base}_{n}", n + 1
        out.append(name)
    return out


def _is_csv(source: SourceFile) -> bool:
    return source.path.lower().endswith((".csv", ".tsv", ".txt"))


def _encoding(source: SourceFile) -> str:
    """CSV files come in UTF-8 or, from older spreadsheets, Windows-1252: decide by the
    bytes. Other formats say their encoding themselves."""
    if not _is_csv(source):
        return "utf-8"
    with open(source.path, "rb") as fh:
        head = fh.read(1 << 20)
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 4:  # not just a character cut at the boundary
            return "cp1252"
    return "utf-8"


def as_utf8(files: list[SourceFile], fetcher: Fetcher) -> list[SourceFile]:
    """GDAL's Arrow stream reads UTF-8 only: a Windows-1252 CSV is transcoded into a copy
    in the run's download directory (removed with the downloads)."""
    out = []
    for source in files:
        if _encoding(source) == "utf-8":
            out.append(source)
            continue
        path = fetcher.new_path(".csv")
        with open(source.path, encoding="cp1252", errors="replace", newline="") as src, \
                open(path, "w", encoding="utf-8", newline="") as dst:
            shutil.copyfileobj(src, dst, 1 << 20)
        fetcher.log("%s is Windows-1252; read as such", source.label)
        out.append(SourceFile(path, source.label, source.layer))
    return out


def open_options(cfg: DatasetConfig, source: SourceFile) -> dict:
    if not _is_csv(source):
        return {}
    return {"X_POSSIBLE_NAMES": cfg.lon or LON_NAMES, "Y_POSSIBLE_NAMES": cfg.lat or LAT_NAMES,
            "GEOM_POSSIBLE_NAMES": cfg.wkt or WKT_NAMES, "KEEP_GEOM_COLUMNS": "NO",
            "AUTODETECT_TYPE": "YES"}


def _unreadable(source: SourceFile) -> InputError:
    # GDAL's own message may quote the file's content: say what, not what it holds
    return InputError(f"{source.label}: GDAL cannot read it as a vector dataset (a broken "
                      "or truncated file, or not a format it knows)"
                      + (f", or it has no layer {source.layer!r}" if source.layer else ""))


@contextmanager
def _open(cfg: DatasetConfig, source: SourceFile):
    """GDAL's Arrow stream of the file: record batches straight from the driver."""
    try:
        with pyogrio.raw.open_arrow(source.path, layer=source.layer, use_pyarrow=True,
                                    batch_size=BATCH,
                                    **open_options(cfg, source)) as (meta, reader):
            yield meta, reader
    except InputError:
        raise
    except Exception:  # noqa: BLE001 - pyogrio raises several GDAL error types
        raise _unreadable(source) from None


def _fields(meta: dict, reader) -> list[tuple[str, pa.DataType]]:
    geometry = {f.name for f in reader.schema if f.metadata and
                f.metadata.get(b"ARROW:extension:name") == b"geoarrow.wkb"}
    return [(f.name, f.type) for f in reader.schema if f.name not in geometry]


def _geometry_column(reader) -> str:
    for f in reader.schema:
        if f.metadata and f.metadata.get(b"ARROW:extension:name") == b"geoarrow.wkb":
            return f.name
    raise InputError("no geometry column")


def _srid(cfg: DatasetConfig, source: SourceFile, crs: str | None) -> int:
    if cfg.srid:
        return cfg.srid
    if crs is None:
        if _is_csv(source) or source.layer in ("points", "lines", "multipolygons",
                                                "multilinestrings", "other_relations"):
            return 4326  # coordinates in columns, OSM: longitude/latitude
        raise InputError(f"{source.label} does not say its coordinate reference system; "
                         "set 'crs' (like EPSG:25833)")
    try:
        epsg = pyproj.CRS.from_user_input(crs).to_epsg(min_confidence=70)
    except pyproj.exceptions.CRSError:
        epsg = None
    if epsg is None:
        raise InputError(f"{source.label}: its coordinate reference system has no EPSG code "
                         "PostGIS knows; set 'crs' (like EPSG:25833)")
    return epsg


@dataclass(frozen=True)
class _FileSchema:
    columns: list[Column]
    srid: int
    geometry_type: str


def _file_schema(cfg: DatasetConfig, source: SourceFile, meta: dict, reader) -> _FileSchema:
    if _is_csv(source) and meta["geometry_type"] is None:
        raise InputError(f"{source.label}: no coordinates found; name the columns with "
                         f"'lon' and 'lat' or 'wkt' (looked for {LON_NAMES} / "
                         f"{LAT_NAMES} / {WKT_NAMES})")
    fields = _fields(meta, reader)
    columns = [Column(name, _pg_type(kind), raw)
               for name, (raw, kind) in zip(safe_names([f[0] for f in fields]), fields,
                                            strict=True)]
    gtype = (meta["geometry_type"] or "Unknown").replace(" Z", "").replace("Multi", "")
    return _FileSchema(columns, _srid(cfg, source, meta["crs"]), gtype)


def _merge(files: list[SourceFile], parts: list[_FileSchema]) -> Schema:
    """One schema for all the files (pages of one service may type a column differently)."""
    if not parts:
        raise InputError("the source holds no features")
    columns: dict[str, Column] = {}
    for source, part in zip(files, parts, strict=True):
        if part.srid != parts[0].srid:
            raise InputError(f"{source.label} is in EPSG:{part.srid}, earlier pages in "
                             f"EPSG:{parts[0].srid}")
        for col in part.columns:
            old = columns.get(col.name)
            if old is not None and old.type != col.type:
                col = Column(col.name, WIDER.get((old.type, col.type)) or
                             WIDER.get((col.type, old.type)) or "text", old.source)
            columns[col.name] = col
    kinds = {p.geometry_type for p in parts}
    gtype = kinds.pop() if len(kinds) == 1 and "Unknown" not in kinds else "Geometry"
    return Schema(tuple(columns.values()), parts[0].srid, gtype)


def infer_schema(cfg: DatasetConfig, files: list[SourceFile]) -> Schema:
    parts = []
    for source in files:
        with _open(cfg, source) as (meta, reader):
            parts.append(_file_schema(cfg, source, meta, reader))
    return _merge(files, parts)


@contextmanager
def reading(cfg: DatasetConfig, files: list[SourceFile]):
    """(schema, batches): a single file is opened once for both (GDAL scans a GeoJSON
    whole to know its columns); pages are each described first, then read."""
    if len(files) != 1:
        schema = infer_schema(cfg, files)
        yield schema, read_batches(cfg, schema, files)
        return
    with _open(cfg, files[0]) as (meta, reader):
        schema = _merge(files, [_file_schema(cfg, files[0], meta, reader)])
        yield schema, _batches(cfg, schema, files[0], meta, reader, 0)


def _check_geometries(cfg: DatasetConfig, schema: Schema, source: SourceFile,
                      wkb: np.ndarray, number: int) -> np.ndarray:
    """The batch's geometries as shapely objects, once every feature is known to have one
    and, in a longitude/latitude source, to lie inside -180..180 / -90..90 (a projected
    file read without its CRS would otherwise fail in PostGIS, naming nothing)."""
    missing = np.flatnonzero(np.equal(wkb, None))
    if len(missing):
        hint = (f" (columns {cfg.wkt or 'wkt'} or {cfg.lon or 'lon'}/{cfg.lat or 'lat'}"
                " empty or not coordinates)") if _is_csv(source) else ""
        raise InputError(f"{source.label}, feature {number + int(missing[0]) + 1}: "
                         f"no geometry{hint}")
    shapes = shapely.from_wkb(wkb)
    if schema.srid != 4326:
        return shapes  # checked after PostGIS reprojects (outside_range.sql)
    bounds = shapely.bounds(shapes)
    bad = np.flatnonzero((bounds[:, 0] < -180) | (bounds[:, 2] > 180) |
                         (bounds[:, 1] < -90) | (bounds[:, 3] > 90))
    if len(bad):
        columns = (f", columns {cfg.lon or 'lon'}/{cfg.lat or 'lat'}"
                   if _is_csv(source) else "")
        raise InputError(f"{source.label}, feature {number + int(bad[0]) + 1}{columns}: "
                         "coordinates outside longitude -180..180 / latitude -90..90; is the "
                         "CRS right? (set 'crs')")
    return shapes


@dataclass
class Batch:
    """Features as COPY data (fid, the schema's columns, geom as WKB and, from a
    longitude/latitude source, geom_3857 too), in `format` binary or, when PostGIS's
    binary input would refuse a shape its text input takes, csv (geometries as hex)."""
    data: bytes
    rows: int
    first_feature: int  # the number of its first feature over the whole source (1-based)
    format: str = "binary"


def _as_text(array: pa.Array) -> pa.Array:
    try:
        return array.cast(pa.string())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):  # lists, structs: as Python prints
        return pa.array([None if v is None else str(v) for v in array.to_pylist()],
                        pa.string())


def _column(array: pa.Array | None, col: Column, n: int) -> pa.Array:
    target = ARROW_TYPES[col.type]
    if array is None:
        return pa.nulls(n, target)
    if col.type == "text":
        return _as_text(array)
    return array.cast(target)


def _plain_binary(wkb: pa.Array) -> pa.Array:
    """A binary column whose buffers hold just its own values (not a slice's, not
    64-bit offsets), so that they can be read as numpy arrays."""
    wkb = wkb.cast(pa.binary()) if wkb.type != pa.binary() else wkb
    if wkb.offset or np.frombuffer(wkb.buffers()[1], dtype=np.int32)[0]:
        wkb = pa.array(wkb.to_pylist(), pa.binary())
    return wkb


def _binary_input_takes(shapes: np.ndarray) -> bool:
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


# two lower-case hex digits per byte value, as one little-endian uint16 each
_HEX_DIGITS = np.frombuffer(b"".join(b"%02x" % i for i in range(256)), dtype=np.uint16)


def _hex(wkb: pa.Array) -> pa.Array:
    """A plain binary column as hex text, by one table lookup over its whole buffer."""
    offsets = np.frombuffer(wkb.buffers()[1], dtype=np.int32)[:len(wkb) + 1]
    data = np.frombuffer(wkb.buffers()[2] or b"", dtype=np.uint8)[:offsets[-1]]
    return pa.StringArray.from_buffers(len(wkb), pa.py_buffer(offsets * 2),
                                       pa.py_buffer(_HEX_DIGITS[data].tobytes()))


def _csv(columns: list[pa.Array], geometries: list[pa.Array]) -> bytes:
    """The rows as COPY's CSV (the text input), geometries as hex WKB."""
    arrays = columns + [_hex(g) for g in geometries]
    sink = pa.BufferOutputStream()
    pacsv.write_csv(pa.RecordBatch.from_arrays(arrays, names=[f"c{i}" for i in
                                                              range(len(arrays))]),
                    sink, pacsv.WriteOptions(include_header=False, quoting_style="needed",
                                             batch_size=BATCH))
    return sink.getvalue().to_pybytes()


def _geometry_2d(shapes: np.ndarray, wkb: pa.Array) -> tuple[np.ndarray, pa.Array]:
    """(shapes, WKB) without Z: GDAL's own 2D WKB goes as it is (PostGIS gives an
    SRID-less geometry its column's SRID); 3D geometries are made 2D."""
    if not shapely.has_z(shapes).any():
        return shapes, _plain_binary(wkb)
    flat = shapely.force_2d(shapes)
    return flat, pa.array(shapely.to_wkb(flat, output_dimension=2), pa.binary())


# ISO WKB's header bytes of the shapes whose coordinates follow it in one block: order and
# type, then the number of points (LineString) or of rings and points (Polygon, one ring)
_ONE_BLOCK_HEADER = {1: 5, 2: 9, 3: 13}


def _coordinate_bytes(shapes: np.ndarray, wkb: pa.Array) -> np.ndarray | None:
    """Where the coordinates lie in the WKB buffer (a mask of its bytes), when every
    feature is a 2D little-endian point, line or one-ring polygon (the header, then the
    coordinates in one block); None otherwise (multi-part shapes, holes)."""
    offsets = np.frombuffer(wkb.buffers()[1], dtype=np.int32)[:len(wkb) + 1].astype(np.int64)
    data = np.frombuffer(wkb.buffers()[2], dtype=np.uint8)
    starts = offsets[:-1]
    if not len(starts) or (data[starts] != 1).any():
        return None
    kinds = data[starts[:, None] + np.arange(1, 5)].copy().view("<u4").ravel()
    header = np.select([kinds == k for k in _ONE_BLOCK_HEADER], list(_ONE_BLOCK_HEADER.values()),
                       -1)
    coordinate_bytes = 16 * shapely.get_num_coordinates(shapes).astype(np.int64)
    if (np.diff(offsets) != header + coordinate_bytes).any():
        return None
    parts = np.column_stack((header, coordinate_bytes)).ravel()
    return np.repeat(np.tile([False, True], len(starts)), parts)


def _web_mercator(to_3857: pyproj.Transformer, shapes: np.ndarray, wkb: pa.Array) -> pa.Array:
    """The tile geometry (EPSG:3857) of longitude/latitude features as WKB, computed here
    beside the reading: PostGIS's ST_Transform costs about 4 µs a feature in the COPY,
    on the server's one core. Points, lines and one-ring polygons (most datasets) are
    transformed in their WKB buffer; other shapes through shapely's coordinates. The
    coordinates are those PostGIS would compute: both ask PROJ."""
    mask = _coordinate_bytes(shapes, wkb)
    if mask is not None:
        data = np.frombuffer(wkb.buffers()[2], dtype=np.uint8)[:len(mask)]
        xy = data[mask].view("<f8").reshape(-1, 2)
    else:
        xy = shapely.get_coordinates(shapes)
    coords = np.column_stack(to_3857.transform(xy[:, 0], xy[:, 1]))
    if mask is not None:
        out = data.copy()
        out[mask] = coords.astype("<f8").view(np.uint8).ravel()
        return pa.Array.from_buffers(pa.binary(), len(wkb),
                                     [None, wkb.buffers()[1], pa.py_buffer(out)])
    return pa.array(shapely.to_wkb(shapely.set_coordinates(shapes.copy(), coords),
                                   output_dimension=2), pa.binary())


def _batches(cfg: DatasetConfig, schema: Schema, source: SourceFile, meta: dict, reader,
             number: int) -> Iterator[Batch]:
    """One file's features as binary COPY data, batch by batch: GDAL's Arrow batches, the
    geometries checked by shapely and the rows encoded by Arrow and numpy, vectorised (no
    Python loop per feature)."""
    raw_names = [f[0] for f in _fields(meta, reader)]
    by_name = dict(zip(safe_names(raw_names), raw_names, strict=True))
    geometry = _geometry_column(reader)
    # one per read: a pyproj transformer is not to be shared between threads
    to_3857 = (pyproj.Transformer.from_crs(4326, 3857, always_xy=True)
               if schema.srid == 4326 else None)
    try:
        for batch in reader:
            n = batch.num_rows
            if n == 0:
                continue
            wkb = batch.column(geometry)
            shapes = _check_geometries(cfg, schema, source,
                                       wkb.to_numpy(zero_copy_only=False), number)
            columns = [pa.array(np.arange(number + 1, number + n + 1, dtype=np.int64))]
            for col in schema.columns:
                raw = by_name.get(col.name)
                columns.append(_column(batch.column(raw) if raw else None, col, n))
            shapes, wkb = _geometry_2d(shapes, wkb)
            geometries = [wkb]
            if to_3857 is not None:  # else PostGIS reprojects (reproject_staging.sql)
                geometries.append(_web_mercator(to_3857, shapes, wkb))
            if _binary_input_takes(shapes):
                types = ["bigint", *(c.type for c in schema.columns)]
                yield Batch(binary_copy.copy_data(
                    [binary_copy.field(a, t) for a, t in zip(columns, types, strict=True)]
                    + [binary_copy.field(g, "geometry") for g in geometries]), n, number + 1)
            else:
                yield Batch(_csv(columns, geometries), n, number + 1, "csv")
            number += n
    except OSError:  # GDAL met a broken feature mid-stream
        raise _unreadable(source) from None


def read_batches(cfg: DatasetConfig, schema: Schema,
                 files: list[SourceFile]) -> Iterator[Batch]:
    """Every file's features as COPY batches, numbered over the whole source. A feature
    without geometry is bad input, named by file and feature number."""
    number = 0
    for source in files:
        with _open(cfg, source) as (meta, reader):
            for batch in _batches(cfg, schema, source, meta, reader, number):
                number += batch.rows
                yield batch


def preview(cfg: DatasetConfig, files: list[SourceFile], limit: int = 20) -> dict:
    """The dry run: the inferred schema and the first features as GeoJSON (reprojected to
    longitude/latitude), without touching the database."""
    schema = infer_schema(cfg, files)
    to_4326 = None
    if schema.srid != 4326:
        proj = pyproj.Transformer.from_crs(schema.srid, 4326, always_xy=True)

        def to_4326(xy: np.ndarray) -> np.ndarray:
            return np.column_stack(proj.transform(xy[:, 0], xy[:, 1]))
    features = []
    for source in files:
        try:
            meta, _, geoms, fields = pyogrio.raw.read(
                source.path, layer=source.layer, force_2d=True, datetime_as_string=True,
                max_features=limit - len(features), **open_options(cfg, source))
        except Exception:  # noqa: BLE001
            raise _unreadable(source) from None
        shapes = shapely.from_wkb(geoms)
        if to_4326 is not None:
            shapes = shapely.transform(shapes, to_4326)
        names = safe_names(meta["fields"])
        for i, shape in enumerate(shapes):
            props = {}
            for name, array in zip(names, fields, strict=True):
                value = array[i].item() if hasattr(array[i], "item") else array[i]
                props[name] = None if isinstance(value, float) and value != value else value
            features.append({"type": "Feature", "properties": props,
                             "geometry": None if shape is None else mapping(shape)})
        if len(features) >= limit:
            break
    return {"schema": schema.as_json(), "srid": schema.srid,
            "geometry_type": schema.geometry_type,
            "features": {"type": "FeatureCollection", "features": features}}
