"""The OSM import pipeline: fetch → stage (read + COPY into staging) → publish (merge)."""

from __future__ import annotations

import os

from matching_and_import_db import tilecache
from matching_and_import_db.copy import ESCAPES, NULL, CopyPipe, encode_value
from matching_and_import_db.errors import InputError
from matching_and_import_db.osm.reader import Road, Stop, StopArea, read_osm
from matching_and_import_db.pipelines.base import (
    Phase,
    PipelineKind,
    RunContext,
    discard_uncommitted,
    fetch_source,
)
from matching_and_import_db.sqlfiles import load_sql

ROAD_COLUMNS = ("osm_id", "highway", "name", "oneway", "maxspeed", "surface", "zone_traffic",
                "cycleway", "access", "geom")
STOP_COLUMNS = ("osm_type", "osm_id", "kind", "name", "ref", "uic_ref", "ref_ifopt",
                "ref_sloid", "local_ref", "operator", "tags", "geom")
STOP_AREA_COLUMNS = ("relation_id", "osm_type", "osm_id")


PACKAGE = "matching_and_import_db.osm"


def _staging(ctx: RunContext) -> dict[str, tuple[str, str]]:
    """This run's staging tables, the {roads}, {stops} and {stop_areas} of the SQL files."""
    run = ctx.run_id
    return {"roads": ("staging", f"osm_roads_run{run}"),
            "stops": ("staging", f"osm_stops_run{run}"),
            "stop_areas": ("staging", f"osm_stop_areas_run{run}")}


def validate_config(config: dict) -> dict:
    source = config.get("source")
    if not isinstance(source, str) or not source.strip():
        raise InputError("an OSM import needs a 'source': a file path or an http(s) URL")
    return {"source": source.strip()}


def fetch(ctx: RunContext) -> None:
    fetch_source(ctx, "OSM", "download.osm.pbf")


def _ewkb_4326(hex_wkb: str) -> str:
    """Plain little-endian hex WKB (as osmium writes it) → EWKB with SRID 4326, so COPY can
    write straight into a geometry(..., 4326) column."""
    return hex_wkb[:2] + hex_wkb[2:4] + "000020E6100000" + hex_wkb[10:]


def _road_line(r: Road, geom: str) -> str:
    """One road as a COPY line in ROAD_COLUMNS order; the hottest line of the import, so
    encode_value is inlined (one call per row instead of nine)."""
    return (f"{r.osm_id}\t{r.highway.translate(ESCAPES)}\t"
            f"{NULL if r.name is None else r.name.translate(ESCAPES)}\t"
            f"{NULL if r.oneway is None else r.oneway.translate(ESCAPES)}\t"
            f"{NULL if r.maxspeed is None else r.maxspeed.translate(ESCAPES)}\t"
            f"{NULL if r.surface is None else r.surface.translate(ESCAPES)}\t"
            f"{NULL if r.zone_traffic is None else r.zone_traffic.translate(ESCAPES)}\t"
            f"{encode_value(r.cycleway)}\t{encode_value(r.access)}\t{geom}")


def stage(ctx: RunContext) -> None:
    """Read the file and COPY it into staging tables, in the transaction publish commits.

    Nothing is committed here: a run that dies leaves neither staging tables nor half a
    load behind. When nothing is published yet, roads are copied straight into the
    published table (still invisible until the commit), which spares a second write of
    every road; a later import merges from staging so it writes only what changed.
    """
    path = ctx.state["path"]
    skipped = 0
    staging = _staging(ctx)
    with ctx.conn.cursor() as cur:
        cur.execute(load_sql(PACKAGE, "create_staging.sql", **staging))
        cur.execute(load_sql(PACKAGE, "nothing_published.sql"))
        direct = ctx.state["roads_direct"] = cur.fetchone()[0]
        roads_table = "osm_roads" if direct else staging["roads"]
        road_geom = _ewkb_4326 if direct else str
        with CopyPipe(cur) as pipe:
            roads = pipe.table(roads_table, ROAD_COLUMNS)
            stops = pipe.table(staging["stops"], STOP_COLUMNS)
            areas = pipe.table(staging["stop_areas"], STOP_AREA_COLUMNS)
            for obj in read_osm(path, on_progress=ctx.progress):
                if isinstance(obj, Road):
                    roads.add_line(_road_line(obj, road_geom(obj.wkb)))
                elif isinstance(obj, Stop):
                    t = obj.tags
                    stops.add((obj.osm_type, obj.osm_id, obj.kind, t.get("name"), t.get("ref"),
                               t.get("uic_ref"), t.get("ref:IFOPT"), t.get("ref:sloid"),
                               t.get("local_ref"), t.get("operator"), obj.extra, obj.wkb))
                elif isinstance(obj, StopArea):
                    for osm_type, osm_id in obj.members:
                        areas.add((obj.osm_id, osm_type, osm_id))
                else:
                    skipped += 1
        if roads.rows == 0 and stops.rows == 0:
            raise InputError(
                f"{os.path.basename(path)} holds no roads and no stops; "
                "the published data is left as it was"
            )
        cur.execute(load_sql(PACKAGE, "index_staging.sql", **staging))
    ctx.counts.update(roads_read=roads.rows, stops_read=stops.rows, ways_without_geometry=skipped)
    ctx.log("read %d roads and %d stops (%d ways without geometry skipped)%s",
            roads.rows, stops.rows, skipped,
            "; roads loaded directly (nothing published before)" if direct else "")


def publish(ctx: RunContext) -> None:
    ctx.ensure_lock()
    staging = _staging(ctx)
    with ctx.conn.cursor() as cur:
        if ctx.state["roads_direct"]:
            r_ins, r_upd, r_del = ctx.counts["roads_read"], 0, 0
        else:
            cur.execute(load_sql(PACKAGE, "publish_roads.sql", **staging))
            r_ins, r_upd, r_del = cur.fetchone()
        cur.execute(load_sql(PACKAGE, "publish_stops.sql", **staging))
        s_ins, s_upd, s_del = cur.fetchone()
        cur.execute(load_sql(PACKAGE, "drop_staging.sql", **staging))
    ctx.ensure_lock()
    ctx.conn.commit()
    if r_ins or r_upd or r_del or s_ins or s_upd or s_del:
        ctx.map_changed(tilecache.OSM)
    ctx.counts.update(roads_inserted=r_ins, roads_updated=r_upd, roads_deleted=r_del,
                      stops_inserted=s_ins, stops_updated=s_upd, stops_deleted=s_del)
    ctx.log("published roads +%d ~%d -%d, stops +%d ~%d -%d",
            r_ins, r_upd, r_del, s_ins, s_upd, s_del)


OSM_IMPORT = PipelineKind(
    name="osm_import",
    title="OpenStreetMap import (roads and public transport stops)",
    phases=(Phase("fetch", fetch), Phase("stage", stage), Phase("publish", publish)),
    validate_config=validate_config,
    cleanup=discard_uncommitted,
    # every OSM import publishes into the same tables: one at a time, whatever the pipeline
    lock_scope="kind",
)
