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
from shapely.errors import ShapelyError
from shapely.geometry import mapping

from matching_and_import_db.datasets import binary_copy, wkb
from matching_and_import_db.datasets.config import DatasetConfig
from matching_and_import_db.datasets.fetch import Fetcher, SourceFile
from matching_and_import_db.errors import InputError

RESERVED = {"fid", "geom", "geom_3857"}
# features per Arrow batch and COPY chunk: small enough that PostgreSQL ingests one chunk
# while the next is read and encoded (65,536 made a 50,000-feature file one chunk,
# nothing overlapped: 10 % slower on bench/dataset_import's files, no different on
# OSM's 51,559 Oslo points)
BATCH = 16_384
LON_NAMES = "lon,lng,long,longitude,x,x_coord,easting"
LAT_NAMES = "lat,latitude,y,y_coord,northing"
WKT_NAMES = "wkt,geometry,geom,the_geom,wkt_geom"
# degrees a longitude/latitude may lie past -180..180 / -90..90 from float rounding
EDGE_TOLERANCE = 1e-3
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
    """GDAL's Arrow stream of the file: record batches straight from the driver. Only
    GDAL's failure to open it is "cannot read it"; what goes wrong later (a feature, the
    COPY) says so itself."""
    stream = pyogrio.raw.open_arrow(source.path, layer=source.layer, use_pyarrow=True,
                                    batch_size=BATCH, **open_options(cfg, source))
    try:
        meta, reader = stream.__enter__()
    except Exception:  # noqa: BLE001 - pyogrio raises several GDAL error types
        raise _unreadable(source) from None
    try:
        yield meta, reader
    finally:
        stream.__exit__(None, None, None)


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


def _check_present(cfg: DatasetConfig, source: SourceFile, geometries: pa.Array,
                   number: int) -> None:
    """Every feature has a geometry."""
    if not geometries.null_count:
        return
    missing = np.flatnonzero(geometries.is_null().to_numpy(zero_copy_only=False))
    hint = (f" (columns {cfg.wkt or 'wkt'} or {cfg.lon or 'lon'}/{cfg.lat or 'lat'}"
            " empty or not coordinates)") if _is_csv(source) else ""
    raise InputError(f"{source.label}, feature {number + int(missing[0]) + 1}: "
                     f"no geometry{hint}")


def _check_readable(source: SourceFile, geometries: pa.Array, shapes: np.ndarray,
                    number: int) -> None:
    """GEOS read every geometry (a clipped OSM multipolygon may have a ring of 2 points)."""
    bad = np.flatnonzero(shapely.is_missing(shapes))
    if not len(bad):
        return
    try:
        shapely.from_wkb(geometries[int(bad[0])].as_py())
        reason = "unreadable"
    except ShapelyError as exc:  # says what, never the coordinates
        reason = str(exc)[:200]
    raise InputError(f"{source.label}, feature {number + int(bad[0]) + 1}: its geometry is "
                     f"not a valid shape ({reason})")


def _degrees_beyond(bounds: np.ndarray) -> np.ndarray:
    """How far each feature reaches past -180..180 / -90..90 (0 or less: inside)."""
    return np.max(np.stack([-180 - bounds[:, 0], bounds[:, 2] - 180,
                            -90 - bounds[:, 1], bounds[:, 3] - 90]), axis=0)


def _just_past_the_edge(bounds: np.ndarray) -> np.ndarray:
    """The features that lie past the edge by no more than float rounding (EDGE_TOLERANCE)."""
    beyond = _degrees_beyond(bounds)
    return np.flatnonzero((beyond > 0) & (beyond <= EDGE_TOLERANCE))


def _onto_the_edge(shapes: np.ndarray, edge: np.ndarray) -> tuple[np.ndarray, pa.Array]:
    """Float rounding past the pole or the antimeridian (ArcGIS's world grid reaches
    latitude 90.0001220703125) set onto the edge, which PostGIS can reproject: the shapes
    and their WKB."""
    shapes = shapes.copy()
    shapes[edge] = shapely.transform(shapes[edge],
                                     lambda xy: np.clip(xy, [-180, -90], [180, 90]))
    return shapes, pa.array(shapely.to_wkb(shapes, output_dimension=2), pa.binary())


def _check_range(cfg: DatasetConfig, source: SourceFile, bounds: np.ndarray,
                 number: int) -> None:
    """A longitude/latitude source's features lie inside -180..180 / -90..90 (a projected
    file read without its CRS would otherwise fail in PostGIS, naming nothing). Another
    source's are checked after PostGIS reprojects them (outside_range.sql)."""
    bad = np.flatnonzero(_degrees_beyond(bounds) > 0)
    if len(bad):
        columns = (f", columns {cfg.lon or 'lon'}/{cfg.lat or 'lat'}"
                   if _is_csv(source) else "")
        raise InputError(f"{source.label}, feature {number + int(bad[0]) + 1}{columns}: "
                         "coordinates outside longitude -180..180 / latitude -90..90; is the "
                         "CRS right? (set 'crs')")


@dataclass
class Batch:
    """Features as COPY data (fid, the schema's columns, geom as WKB and, from a
    longitude/latitude source, geom_3857 too), in `format` binary or, when PostGIS's
    binary input would refuse a shape its text input takes, csv (geometries as hex)."""
    data: bytes
    rows: int
    first_feature: int  # the number of its first feature over the whole source (1-based)
    format: str = "binary"
    # (minx, miny, maxx, maxy) of a longitude/latitude batch (None: not known here, or
    # every shape empty)
    bounds: tuple[float, float, float, float] | None = None


def _list_text(values: list) -> str:
    """A list field as text: its distinct values joined by '; '. GeoServer's WFS 1.1 answers
    carry gml:name beside a feature's own name, which GDAL reads as one field of both:
    ['Aflu', 'Aflu'] is the name Aflu."""
    return "; ".join(dict.fromkeys("" if v is None else str(v) for v in values))


def _as_text(array: pa.Array) -> pa.Array:
    try:
        return array.cast(pa.string())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):  # lists, structs
        if pa.types.is_list(array.type) or pa.types.is_large_list(array.type):
            return pa.array([None if v is None else _list_text(v) for v in array.to_pylist()],
                            pa.string())
        # structs as Python prints them
        return pa.array([None if v is None else str(v) for v in array.to_pylist()],
                        pa.string())


def _column(array: pa.Array | None, col: Column, n: int) -> pa.Array:
    target = ARROW_TYPES[col.type]
    if array is None:
        return pa.nulls(n, target)
    if col.type == "text":
        return _as_text(array)
    return array.cast(target)


def _extent(bounds: np.ndarray) -> tuple[float, float, float, float] | None:
    """The features' bounds together (empty shapes, NaN, left out, as ST_Extent does)."""
    if np.isnan(bounds).all():
        return None
    return (float(np.nanmin(bounds[:, 0])), float(np.nanmin(bounds[:, 1])),
            float(np.nanmax(bounds[:, 2])), float(np.nanmax(bounds[:, 3])))


def merge_extents(a: tuple | None, b: tuple | None) -> tuple | None:
    if a is None or b is None:
        return a or b
    return (min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3]))


def _csv(columns: list[pa.Array], geometries: list[pa.Array]) -> bytes:
    """The rows as COPY's CSV (the text input), geometries as hex WKB."""
    arrays = columns + [wkb.hex_text(g) for g in geometries]
    sink = pa.BufferOutputStream()
    pacsv.write_csv(pa.RecordBatch.from_arrays(arrays, names=[f"c{i}" for i in
                                                              range(len(arrays))]),
                    sink, pacsv.WriteOptions(include_header=False, quoting_style="needed",
                                             batch_size=BATCH))
    return sink.getvalue().to_pybytes()


def _batches(cfg: DatasetConfig, schema: Schema, source: SourceFile, meta: dict, reader,
             number: int) -> Iterator[Batch]:
    """One file's features as COPY data, batch by batch: GDAL's Arrow batches, the
    geometries checked and the rows encoded by numpy, Arrow and shapely, vectorised (no
    Python loop per feature; wkb.py, binary_copy.py)."""
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
            geometries = batch.column(geometry)
            _check_present(cfg, source, geometries, number)
            geometries = wkb.plain_binary(geometries)
            simple = wkb.simple(geometries)  # most batches: numpy over the WKB buffer
            shapes = None
            if simple is None:
                shapes, geometries = wkb.shapes_2d(geometries)
                _check_readable(source, geometries, shapes, number)
            extent = None
            if schema.srid == 4326:
                bounds = simple.bounds() if simple is not None else shapely.bounds(shapes)
                edge = _just_past_the_edge(bounds)
                if len(edge):  # rare: those shapes are rewritten, so the batch goes by shapely
                    if shapes is None:
                        shapes, geometries = wkb.shapes_2d(geometries)
                    shapes, geometries = _onto_the_edge(shapes, edge)
                    simple, bounds = None, shapely.bounds(shapes)
                _check_range(cfg, source, bounds, number)
                extent = _extent(bounds)
            columns = [pa.array(np.arange(number + 1, number + n + 1, dtype=np.int64))]
            for col in schema.columns:
                raw = by_name.get(col.name)
                columns.append(_column(batch.column(raw) if raw else None, col, n))
            geometry_columns = [geometries]
            if to_3857 is not None:  # else PostGIS reprojects (reproject_staging.sql)
                geometry_columns.append(wkb.web_mercator(to_3857, geometries, simple, shapes))
            if simple is not None or wkb.binary_input_takes(shapes):
                types = ["bigint", *(c.type for c in schema.columns)]
                yield Batch(binary_copy.copy_data(
                    [binary_copy.field(a, t) for a, t in zip(columns, types, strict=True)]
                    + [binary_copy.field(g, "geometry") for g in geometry_columns]),
                    n, number + 1, bounds=extent)
            else:
                yield Batch(_csv(columns, geometry_columns), n, number + 1, "csv", extent)
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
