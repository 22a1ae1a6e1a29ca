"""Reading a dataset's files through GDAL (pyogrio): the inferred schema, then the features
as COPY lines. No format is parsed here: GDAL's drivers read GeoJSON, CSV, GeoPackage,
Shapefile, KML/KMZ, GML, FlatGeobuf and OSM alike.

Column names are made safe once, here (lower-case letters, digits and _), so that a name
can be a table column, a vector tile property and a URL filter without quoting surprises.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pyogrio
import pyproj
import shapely

from matching_and_import_db.copy import ESCAPES, NULL
from matching_and_import_db.datasets.config import DatasetConfig
from matching_and_import_db.datasets.fetch import SourceFile
from matching_and_import_db.errors import InputError

RESERVED = {"fid", "geom", "geom_3857"}
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


def _pg_type(dtype: str) -> str:
    if dtype.startswith(("int", "uint")):
        return "bigint"
    if dtype.startswith("float"):
        return "double precision"
    if dtype == "bool":
        return "boolean"
    if dtype == "datetime64[D]":
        return "date"
    if dtype.startswith("datetime64"):
        return "timestamptz"
    return "text"


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


def _encoding(source: SourceFile) -> str | None:
    """CSV files come in UTF-8 or, from older spreadsheets, Windows-1252: decide by the
    bytes. Other formats say their encoding themselves."""
    if not _is_csv(source):
        return None
    with open(source.path, "rb") as fh:
        head = fh.read(1 << 16)
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 4:  # not just a character cut by the 64 kB boundary
            return "cp1252"
    return None


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


def _info(cfg: DatasetConfig, source: SourceFile) -> dict:
    try:
        return pyogrio.read_info(source.path, layer=source.layer, encoding=_encoding(source),
                                 **open_options(cfg, source))
    except Exception:  # noqa: BLE001 - pyogrio raises several GDAL error types
        raise _unreadable(source) from None


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


def infer_schema(cfg: DatasetConfig, files: list[SourceFile]) -> Schema:
    """One schema for all the files (pages of one service may type a column differently)."""
    columns: dict[str, Column] = {}
    srid = None
    geometry_types = set()
    for source in files:
        info = _info(cfg, source)
        if _is_csv(source) and info["geometry_type"] is None:
            raise InputError(f"{source.label}: no coordinates found; name the columns with "
                             f"'lon' and 'lat' or 'wkt' (looked for {LON_NAMES} / "
                             f"{LAT_NAMES} / {WKT_NAMES})")
        this = _srid(cfg, source, info["crs"])
        if srid is not None and this != srid:
            raise InputError(f"{source.label} is in EPSG:{this}, earlier pages in "
                             f"EPSG:{srid}")
        srid = this
        geometry_types.add((info["geometry_type"] or "Unknown").replace(" Z", "")
                           .replace("Multi", ""))
        for name, dtype, raw in zip(safe_names(info["fields"]), info["dtypes"],
                                    info["fields"], strict=True):
            col = Column(name, _pg_type(str(dtype)), str(raw))
            old = columns.get(name)
            if old is not None and old.type != col.type:
                col = Column(name, WIDER.get((old.type, col.type)) or
                             WIDER.get((col.type, old.type)) or "text", old.source)
            columns[name] = col
    if srid is None:
        raise InputError("the source holds no features")
    kinds = {g for g in geometry_types if g != "Unknown"}
    gtype = kinds.pop() if len(kinds) == 1 and "Unknown" not in geometry_types else "Geometry"
    return Schema(tuple(columns.values()), srid, gtype)


def _encoder(pg_type: str, array: np.ndarray):
    """The column's values as COPY text, one list for the column (a loop per column, not a
    call per cell)."""
    values = array.tolist()
    kind = array.dtype.kind
    if kind == "f":
        if pg_type == "bigint":
            return [NULL if v != v else str(int(v)) for v in values]
        if pg_type == "text":
            return [NULL if v != v else repr(v) for v in values]
        return [NULL if v != v else repr(v) for v in values]
    if kind in "iu":
        return [str(v) for v in values]
    if kind == "b":
        return ["t" if v else "f" for v in values]
    return [NULL if v is None else (v if isinstance(v, str) else str(v)).translate(ESCAPES)
            for v in values]


def _ewkb(wkb: bytes, srid_hex: str) -> str:
    """GDAL's little-endian ISO WKB → EWKB hex with the SRID, so COPY writes it straight
    into a geometry column (2D: the files are read with force_2d)."""
    if wkb[0] != 1:
        raise ValueError("big-endian WKB")
    code = int.from_bytes(wkb[1:5], "little") | 0x20000000
    return "01" + code.to_bytes(4, "little").hex() + srid_hex + wkb[5:].hex()


def _check_geometries(cfg: DatasetConfig, schema: Schema, source: SourceFile,
                      geoms: np.ndarray, number: int) -> None:
    """Every feature has a geometry and, in a longitude/latitude source, lies inside
    -180..180 / -90..90 (a projected file read without its CRS would otherwise fail in
    PostGIS, naming nothing). Vectorised: one pass of shapely over the page."""
    missing = np.flatnonzero(np.equal(geoms, None))
    if len(missing):
        hint = (f" (columns {cfg.wkt or 'wkt'} or {cfg.lon or 'lon'}/{cfg.lat or 'lat'}"
                " empty or not coordinates)") if _is_csv(source) else ""
        raise InputError(f"{source.label}, feature {number + int(missing[0]) + 1}: "
                         f"no geometry{hint}")
    if schema.srid != 4326:
        return  # checked after PostGIS reprojects (outside_range.sql)
    bounds = shapely.bounds(shapely.from_wkb(geoms))
    bad = np.flatnonzero((bounds[:, 0] < -180) | (bounds[:, 2] > 180) |
                         (bounds[:, 1] < -90) | (bounds[:, 3] > 90))
    if len(bad):
        columns = (f", columns {cfg.lon or 'lon'}/{cfg.lat or 'lat'}"
                   if _is_csv(source) else "")
        raise InputError(f"{source.label}, feature {number + int(bad[0]) + 1}{columns}: "
                         "coordinates outside longitude -180..180 / latitude -90..90; is the "
                         "CRS right? (set 'crs')")


@dataclass
class Batch:
    """One file's features as COPY lines (columns in schema order, then geom)."""
    lines: list[str]
    first_feature: int  # the number of its first feature over the whole source (1-based)


def read_lines(cfg: DatasetConfig, schema: Schema, files: list[SourceFile],
               max_features: int | None = None) -> Iterator[Batch]:
    """fid, the schema's columns, geom, as COPY text; a feature without geometry is bad
    input, named by file and feature number."""
    srid_hex = schema.srid.to_bytes(4, "little").hex()
    number = 0
    for source in files:
        try:
            meta, _, geoms, fields = pyogrio.raw.read(
                source.path, layer=source.layer, encoding=_encoding(source), force_2d=True,
                datetime_as_string=True, max_features=max_features,
                **open_options(cfg, source))
        except Exception:  # noqa: BLE001
            raise _unreadable(source) from None
        by_name = dict(zip(safe_names(meta["fields"]), fields, strict=True))
        n = len(geoms)
        cols = [[str(i) for i in range(number + 1, number + n + 1)]]
        for col in schema.columns:
            array = by_name.get(col.name)
            cols.append([NULL] * n if array is None else _encoder(col.type, array))
        _check_geometries(cfg, schema, source, geoms, number)
        cols.append([_ewkb(wkb, srid_hex) for wkb in geoms])
        yield Batch(["\t".join(row) for row in zip(*cols, strict=True)], number + 1)
        number += n
        if max_features is not None and number >= max_features:
            return


def preview(cfg: DatasetConfig, files: list[SourceFile], limit: int = 20) -> dict:
    """The dry run: the inferred schema and the first features as GeoJSON (reprojected to
    longitude/latitude), without touching the database."""
    from shapely.geometry import mapping
    from shapely.ops import transform

    schema = infer_schema(cfg, files)
    to_4326 = None
    if schema.srid != 4326:
        to_4326 = pyproj.Transformer.from_crs(schema.srid, 4326, always_xy=True).transform
    features = []
    for source in files:
        meta, _, geoms, fields = pyogrio.raw.read(
            source.path, layer=source.layer, encoding=_encoding(source), force_2d=True,
            datetime_as_string=True, max_features=limit - len(features),
            **open_options(cfg, source))
        names = safe_names(meta["fields"])
        for i, wkb in enumerate(geoms):
            geom = None
            if wkb is not None:
                shape = shapely.from_wkb(wkb)
                if to_4326:
                    shape = transform(to_4326, shape)
                geom = mapping(shape)
            props = {}
            for name, array in zip(names, fields, strict=True):
                value = array[i].item() if hasattr(array[i], "item") else array[i]
                props[name] = None if isinstance(value, float) and value != value else value
            features.append({"type": "Feature", "geometry": geom, "properties": props})
        if len(features) >= limit:
            break
    return {"schema": schema.as_json(), "srid": schema.srid,
            "geometry_type": schema.geometry_type,
            "features": {"type": "FeatureCollection", "features": features}}
