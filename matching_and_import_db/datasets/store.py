"""The tables of datasets: a run's staging table, publishing it (swap or upsert), and the
catalog rows the web processes register as layers.

A published dataset lives in `datasets.<slug>` (fid, its columns, geom in EPSG:4326,
geom_3857 for tiles); its row in `published_datasets` says what it holds. Every
identifier is composed with psycopg2.sql from a validated slug and the reader's safe
column names; every value is bound.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import orjson
from psycopg2 import sql

from matching_and_import_db.sqlfiles import load_sql

if TYPE_CHECKING:  # the reader brings GDAL and Arrow; the web app imports this module
    from matching_and_import_db.datasets.reader import Schema

PACKAGE = "matching_and_import_db.datasets"
SCHEMA = "datasets"
TYPES = {"bigint", "double precision", "boolean", "date", "timestamptz", "text"}


def staging_name(run_id: int) -> tuple[str, str]:
    return ("staging", f"dataset_run{run_id}")


def published_name(slug: str) -> tuple[str, str]:
    return (SCHEMA, slug)


def _q(name: tuple[str, str] | str) -> sql.Identifier:
    return sql.Identifier(*name) if isinstance(name, tuple) else sql.Identifier(name)


def column_defs(schema: Schema) -> sql.Composed:
    parts = []
    for col in schema.columns:
        if col.type not in TYPES:  # the reader's types only; never text from a file
            raise ValueError(col.type)
        parts.append(sql.SQL("{} {},").format(sql.Identifier(col.name), sql.SQL(col.type)))
    return sql.SQL(" ").join(parts)


def copy_statement(run_id: int, schema: Schema, fmt: str) -> sql.Composed:
    """COPY into the staging table in the format of a reader's batch (binary or csv);
    CopyPipe takes the statement as text: render it with as_string(cursor). A
    longitude/latitude source brings its tile geometry; another's is made when PostGIS
    reprojects it. FREEZE (the table is the run's own, made in this transaction): the rows
    are written frozen, so that neither the index builds nor the first readers after the
    publish check or set their visibility row by row (a quarter of the server's time for
    200,000 points)."""
    return sql.SQL("COPY {} ({}) FROM STDIN WITH (FORMAT {}, FREEZE)").format(
        _q(staging_name(run_id)),
        sql.SQL(", ").join(sql.Identifier(n) for n in
                           ["fid", *(c.name for c in schema.columns), "geom",
                            *(["geom_3857"] if schema.srid == 4326 else [])]),
        sql.SQL({"binary": "binary", "csv": "csv"}[fmt]))


def create_staging(cur, run_id: int, schema: Schema) -> None:
    name = "create_staging.sql" if schema.srid == 4326 else "create_staging_projected.sql"
    cur.execute(load_sql(PACKAGE, name, staging=staging_name(run_id),
                         columns=column_defs(schema)), {"srid": schema.srid})


def reproject_staging(cur, run_id: int) -> None:
    cur.execute(load_sql(PACKAGE, "reproject_staging.sql", staging=staging_name(run_id)))


def first_outside_range(cur, run_id: int) -> int | None:
    cur.execute(load_sql(PACKAGE, "outside_range.sql", staging=staging_name(run_id)))
    row = cur.fetchone()
    return row[0] if row else None


def index_staging(cur, run_id: int) -> None:
    cur.execute(load_sql(PACKAGE, "index_staging.sql", staging=staging_name(run_id)))


def drop_staging(cur, run_id: int) -> None:
    cur.execute(load_sql(PACKAGE, "drop_staging.sql", staging=staging_name(run_id)))


def key_problem(cur, run_id: int, key: str) -> tuple[int, bool] | None:
    """(feature, missing?) of the first feature whose key is empty or repeated."""
    cur.execute(load_sql(PACKAGE, "key_problem.sql", staging=staging_name(run_id), key=key))
    row = cur.fetchone()
    return (row[0], row[1]) if row else None


@dataclass(frozen=True)
class Published:
    columns: list[list[str]]  # [[name, type], ...] as last published
    pipeline: str | None
    has_table: bool


def published(cur, slug: str) -> Published | None:
    cur.execute(load_sql(PACKAGE, "published.sql"),
                {"slug": slug, "table": f"{SCHEMA}.{slug}"})
    row = cur.fetchone()
    return Published(row[0], row[1], row[2]) if row else None


def swap(cur, run_id: int, slug: str) -> None:
    staging = staging_name(run_id)
    cur.execute(load_sql(PACKAGE, "swap.sql", published=published_name(slug), staging=staging,
                         moved=(SCHEMA, staging[1]), slug=slug))


def upsert(cur, run_id: int, slug: str, schema: Schema, key: str) -> tuple[int, int, int]:
    """Deletes, updates (only rows that changed) and inserts by key; (ins, upd, del)."""
    names = [c.name for c in schema.columns] + ["geom", "geom_3857"]
    ids = {"published": published_name(slug), "staging": staging_name(run_id), "key": key}
    cur.execute(load_sql(PACKAGE, "upsert_delete.sql", **ids))
    deleted = cur.rowcount
    cur.execute(load_sql(PACKAGE, "upsert_update.sql", **ids,
                         targets=sql.SQL(", ").join(map(sql.Identifier, names)),
                         values=sql.SQL(", ").join(sql.Identifier("s", n) for n in names),
                         old=sql.SQL(", ").join(sql.Identifier("p", n) for n in names)))
    updated = cur.rowcount
    cur.execute(load_sql(PACKAGE, "upsert_insert.sql", **ids,
                         targets=sql.SQL(", ").join(map(sql.Identifier, names)),
                         values=sql.SQL(", ").join(sql.Identifier("s", n) for n in names)))
    inserted = cur.rowcount
    cur.execute(load_sql(PACKAGE, "drop_staging.sql", staging=staging_name(run_id)))
    return inserted, updated, deleted


@dataclass(frozen=True)
class Registration:
    slug: str
    pipeline: str
    run_id: int
    title: str
    group: str
    description: str
    colour: str
    schema: Schema
    key: str | None
    # what the reader counted and bounded, when the run's rows are the published ones;
    # None: counted and bounded in the published table
    feature_count: int | None = None
    bbox: tuple[float, float, float, float] | None = None


def register(cur, r: Registration) -> tuple[int, int]:
    """The catalog row after a publish; (feature count, version)."""
    cur.execute(load_sql(PACKAGE, "register.sql", published=published_name(r.slug)),
                {"slug": r.slug, "pipeline": r.pipeline, "run_id": r.run_id,
                 "title": r.title, "group": r.group, "description": r.description,
                 "colour": r.colour, "geometry_type": r.schema.geometry_type,
                 "columns": orjson.dumps(r.schema.as_json()).decode(), "key": r.key,
                 "srid": r.schema.srid, "feature_count": r.feature_count,
                 "bbox": list(r.bbox) if r.bbox else None})
    count, version = cur.fetchone()
    return count, version


@dataclass(frozen=True)
class DatasetRow:
    """A published dataset as the catalog registers it."""
    slug: str
    title: str
    group: str
    description: str
    colour: str
    geometry_type: str
    columns: tuple[tuple[str, str], ...]
    version: int
    feature_count: int
    bbox: tuple[float, float, float, float] | None


def catalog_rows(cur) -> list[DatasetRow]:
    cur.execute(load_sql(PACKAGE, "catalog.sql"))
    return [DatasetRow(slug, title, group, description or "", colour, gtype,
                       tuple((c[0], c[1]) for c in columns), version, count,
                       tuple(bbox) if bbox else None)
            for slug, title, group, description, colour, gtype, columns, version, count, bbox
            in cur.fetchall()]


def catalog_signature(cur) -> str:
    cur.execute(load_sql(PACKAGE, "catalog_signature.sql"))
    return cur.fetchone()[0]


def drift(old: list[list[str]], new: Schema) -> list[str]:
    """What changed between the published schema and this run's, in words."""
    before = {name: kind for name, kind in old}
    after = {c.name: c.type for c in new.columns}
    out = [f"column {n} added ({t})" for n, t in after.items() if n not in before]
    out += [f"column {n} removed" for n in before if n not in after]
    out += [f"column {n} changed type {before[n]} → {t}" for n, t in after.items()
            if n in before and before[n] != t]
    return out
