"""The dataset pipeline: fetch (file, URL, WFS pages, OGC API pages, CKAN resource,
Overpass answer) → stage (GDAL read, COPY into staging, reproject, check) → publish (swap,
or upsert by key, in one transaction; tiles of the layer invalidated after the commit).

A run that fails at any point commits nothing: the published dataset stays as it was.

The web app imports this module for the kind's configuration check; GDAL, Arrow and PROJ
(`reader`, `fetch`: about 150 MB in every process that loads them) are imported by the
phases that read, so a web worker only pays for them when it previews a source.
"""

from __future__ import annotations

import os

from psycopg2 import errors as pg_errors

from matching_and_import_db.copy import CopyPipe
from matching_and_import_db.datasets import store
from matching_and_import_db.datasets.config import DatasetConfig, parse, validate_config
from matching_and_import_db.errors import InputError
from matching_and_import_db.pipelines.base import Phase, PipelineKind, RunContext


def _cfg(ctx: RunContext) -> DatasetConfig:
    return parse(ctx.config)


def fetch_phase(ctx: RunContext) -> None:
    from matching_and_import_db.datasets.fetch import Fetcher, fetch
    from matching_and_import_db.datasets.reader import as_utf8

    cfg = _cfg(ctx)
    fetcher = ctx.state["fetcher"] = Fetcher(
        ctx.sources, os.path.join(ctx.data_dir, "downloads"), f"run{ctx.run_id}-dataset",
        ctx.progress, ctx.log)
    ctx.state["files"] = as_utf8(fetch(cfg, fetcher), fetcher)
    ctx.counts["source_files"] = len(ctx.state["files"])


def stage(ctx: RunContext) -> None:
    from matching_and_import_db.datasets.reader import merge_extents, reading

    cfg = _cfg(ctx)
    files = ctx.state["files"]
    with reading(cfg, files) as (schema, batches), ctx.conn.cursor() as cur:
        ctx.state["schema"] = schema
        before = store.published(cur, cfg.slug)
        if before is not None and before.pipeline not in (None, ctx.pipeline):
            raise InputError(f"the dataset {cfg.slug} is published by another pipeline; "
                             "choose another slug")
        changes = store.drift(before.columns, schema) if before and before.has_table else []
        ctx.state["drift"] = changes
        if changes:
            ctx.counts["schema_changes"] = len(changes)
            ctx.log("schema drift: %s", "; ".join(changes))
            if cfg.on_drift == "fail":
                raise InputError(f"schema drift in {cfg.slug} ({'; '.join(changes)}) and "
                                 "on_drift is 'fail'; the published dataset is left as it was")
        if cfg.key and cfg.key not in {c.name for c in schema.columns}:
            raise InputError(f"the key column {cfg.key!r} is not in the source (its columns: "
                             f"{', '.join(c.name for c in schema.columns)})")
        store.create_staging(cur, ctx.run_id, schema)
        read, extent = 0, None
        copy = {fmt: store.copy_statement(ctx.run_id, schema, fmt).as_string(cur)
                for fmt in ("binary", "csv")}
        with CopyPipe(cur) as pipe:
            for batch in batches:
                pipe.submit(copy[batch.format], batch.data)
                read += batch.rows
                extent = merge_extents(extent, batch.bounds)
                ctx.progress(read)
        if read == 0:
            raise InputError(f"{files[0].label if files else cfg.source} holds no features; "
                             "the published dataset is left as it was")
        if schema.srid != 4326:
            try:
                store.reproject_staging(cur, ctx.run_id)
            except pg_errors.InternalError:  # PROJ could not transform a coordinate
                raise InputError(f"coordinates of {cfg.slug} cannot be transformed from "
                                 f"EPSG:{schema.srid} to longitude/latitude; is the CRS "
                                 "right? (set 'crs')") from None
        # a longitude/latitude source's features were checked as they were read
        bad = store.first_outside_range(cur, ctx.run_id) if schema.srid != 4326 else None
        if bad is not None:
            raise InputError(f"feature {bad} of {cfg.slug} lies outside longitude -180..180 / "
                             f"latitude -90..90 after reading it as EPSG:{schema.srid}; is "
                             "the CRS right? (set 'crs')")
        if cfg.mode == "upsert":
            problem = store.key_problem(cur, ctx.run_id, cfg.key)
            if problem:
                fid, missing = problem
                raise InputError(f"feature {fid}, column {cfg.key}: the key is "
                                 + ("empty" if missing else "the same as another feature's")
                                 + "; every feature needs its own key in mode 'upsert'")
        store.index_staging(cur, ctx.run_id)
    ctx.state["extent"] = extent if schema.srid == 4326 else None  # else PostGIS's, later
    ctx.counts.update(features_read=read, columns=len(schema.columns))
    ctx.log("read %d features with %d columns (%s, EPSG:%d)", read, len(schema.columns),
            schema.geometry_type, schema.srid)


def publish(ctx: RunContext) -> None:
    cfg = _cfg(ctx)
    schema = ctx.state["schema"]
    ctx.ensure_lock()
    with ctx.conn.cursor() as cur:
        before = store.published(cur, cfg.slug)
        if cfg.mode == "upsert" and before and before.has_table and not ctx.state["drift"]:
            inserted, updated, deleted = store.upsert(cur, ctx.run_id, cfg.slug, schema, cfg.key)
            how = "upserted"
        else:
            store.swap(cur, ctx.run_id, cfg.slug)
            inserted, updated, deleted = ctx.counts["features_read"], 0, None
            how = "swapped in"
        swapped = how == "swapped in" and ctx.state["extent"] is not None
        count, version = store.register(cur, store.Registration(
            cfg.slug, ctx.pipeline, ctx.run_id, cfg.title or cfg.slug, cfg.group,
            cfg.description, cfg.colour, schema, cfg.key,
            # the published rows are the ones read: no need to scan them again
            feature_count=inserted if swapped else None,
            bbox=ctx.state["extent"] if swapped else None))
    ctx.ensure_lock()
    ctx.conn.commit()
    if ctx.tiles is not None:  # the dataset's layer is named by its slug
        ctx.tiles.layers_changed([cfg.slug], None)
    ctx.counts.update(features_inserted=inserted, features_updated=updated,
                      features_published=count, version=version)
    if deleted is not None:
        ctx.counts["features_deleted"] = deleted
    ctx.log("published %s: %d features (%s), version %d", cfg.slug, count, how, version)


def cleanup(ctx: RunContext) -> None:
    """Whatever was not committed goes with the rollback; downloads are never kept."""
    ctx.conn.rollback()
    fetcher = ctx.state.get("fetcher")
    if fetcher is not None:
        fetcher.remove()


DATASET_IMPORT = PipelineKind(
    name="dataset",
    title="Open dataset (file, URL, WFS, OGC API Features, CKAN, Overpass) as a map layer",
    phases=(Phase("fetch", fetch_phase), Phase("stage", stage), Phase("publish", publish)),
    validate_config=validate_config,
    cleanup=cleanup,
)
