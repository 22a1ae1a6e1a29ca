"""The stops import: fetch → parse → stage → match → problems → publish → reapply.

Everything up to publish happens in one uncommitted transaction (staging tables included),
so a run that fails or dies leaves the published stops, matches and problems as they were.
Publish replaces all three in that transaction: readers see the old rows until the commit
(MVCC), never an empty or half-written table. Reapply then records, per decision, whether
this import applied it or flagged it for review because its evidence changed.
"""

from __future__ import annotations

import os
import zipfile
from collections import Counter

import orjson
from psycopg2.extras import Json, execute_values

from matching_and_import_db import tilecache
from matching_and_import_db.copy import CopyPipe
from matching_and_import_db.errors import InputError
from matching_and_import_db.pipelines.base import (
    Phase,
    PipelineKind,
    RunContext,
    discard_uncommitted,
    fetch_source,
)
from matching_and_import_db.sqlfiles import load_sql
from matching_and_import_db.stops import readers, registry_config, scope, store
from matching_and_import_db.stops.columns import (
    OFFICIAL_COLUMN_NAMES,
    official_row,
    official_sql,
)
from matching_and_import_db.stops.matching import DEFAULT_PROFILE, match_stops
from matching_and_import_db.stops.netex import is_netex, read_netex
from matching_and_import_db.stops.problems import grid_area, problem_statistics
from matching_and_import_db.stops.store import PACKAGE

FORMATS = ("auto", "atlas", "gtfs", "naptan", "netex", "csv", "geojson")
MAPPED_FORMATS = ("csv", "geojson")
MATCH_COLUMNS = ("official_id", "osm_key", "method", "stage", "score", "distance_m",
                 "official_name", "osm_name", "evidence", "profile_version", "geom")
PROBLEM_COLUMNS = ("type", "priority", "official_id", "osm_key", "area", "evidence", "geom")
MAX_WITHIN_M = 50_000


def _tables(ctx: RunContext) -> dict[str, tuple[str, str]]:
    run = ctx.run_id
    return {"official": ("staging", f"stops_official_run{run}"),
            "matches": ("staging", f"stop_matches_run{run}"),
            "problems": ("staging", f"stop_problems_run{run}")}


def validate_config(config: dict) -> dict:
    source = config.get("source")
    if not isinstance(source, str) or not source.strip():
        raise InputError("a stops import needs a 'source': a file path or an http(s) URL")
    fmt = config.get("format") or "auto"
    if fmt not in FORMATS:
        raise InputError(f"unknown stops format {fmt!r}; one of {', '.join(FORMATS)}")
    out: dict = {"source": source.strip(), "format": fmt}
    mapping = config.get("mapping")
    if fmt in MAPPED_FORMATS:
        if not isinstance(mapping, dict) or not mapping or not all(
                isinstance(k, str) and isinstance(v, str) and v for k, v in mapping.items()):
            raise InputError(f"format {fmt} needs a 'mapping' from fields to column names, "
                             'e.g. {"id": "stop_code", "name": "stop_name", "lat": "lat", '
                             '"lon": "lon"}')
        unknown = sorted(k for k in set(mapping) - set(readers.MAPPABLE_FIELDS)
                         if not k.startswith(readers.EXTRA_PREFIX))
        if unknown:
            raise InputError(f"unknown field(s) in the mapping: {', '.join(unknown)}; known: "
                             f"{', '.join(readers.MAPPABLE_FIELDS)}, "
                             f"{readers.EXTRA_PREFIX}<key>")
        out["mapping"] = dict(mapping)
    elif mapping:
        raise InputError(f"format {fmt} takes no 'mapping' (only csv and geojson do)")
    out.update(registry_config.validate_reading(config, fmt, fmt in MAPPED_FORMATS))
    out.update(registry_config.validate_scope(config))
    within = config.get("osm_within_m")
    if within is not None:
        if (isinstance(within, bool) or not isinstance(within, int | float)
                or not 0 < within <= MAX_WITHIN_M):
            raise InputError(f"osm_within_m must be a distance in metres, 1 to {MAX_WITHIN_M}")
        out["osm_within_m"] = float(within)
    return out


# --- fetch and parse -------------------------------------------------------------------

def fetch(ctx: RunContext) -> None:
    fetch_source(ctx, "stops", "stops")


def detect_format(path: str) -> str:
    """GTFS is a zip with stops.txt; NeTEx is XML (or a zip of it) whose root is a
    PublicationDelivery; ATLAS and NaPTAN are told by their header; anything else needs a
    format and a mapping."""
    name = os.path.basename(path)
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            names = {m.rsplit("/", 1)[-1] for m in archive.namelist()}
            if "stops.txt" in names:
                return "gtfs"
            if is_netex(path):
                return "netex"
            # a zipped CSV export (ATLAS publishes its exports so): told by its header
            with archive.open(readers.zipped_csv(archive, name)) as f:
                header = f.readline(64 * 1024).decode("utf-8-sig", "replace")
    elif is_netex(path):
        return "netex"
    else:
        with open(path, "rb") as f:
            header = f.readline(64 * 1024).decode("utf-8-sig", "replace")
    if "sloid" in header and "designationOfficial" in header:
        return "atlas"
    if "ATCOCode" in header or "StopAreaCode" in header:
        return "naptan"
    raise InputError(f"{name} line 1: cannot tell the registry format from the header "
                     "(expected ATLAS sloid and designationOfficial, or NaPTAN ATCOCode, or a "
                     "GTFS zip, or NeTEx XML); set 'format' (atlas, gtfs, naptan, netex, or "
                     "csv/geojson with a 'mapping')")


def parse(ctx: RunContext) -> None:
    path, fmt = ctx.state["path"], ctx.config["format"]
    if fmt == "auto":
        fmt = detect_format(path)
        ctx.log("format detected: %s", fmt)
    ctx.state["format"] = fmt
    if fmt == "atlas":
        read = readers.read_atlas(path)
    elif fmt == "gtfs":
        read = readers.read_gtfs_stops(path)
    elif fmt == "naptan":
        read = readers.read_naptan(path)
    elif fmt == "netex":
        read = read_netex(path)
    elif fmt == "csv":
        read = readers.read_mapped_csv(path, ctx.config["mapping"],
                                       options=registry_config.mapped_options(ctx.config))
    else:
        read = readers.read_mapped_geojson(path, ctx.config["mapping"],
                                           options=registry_config.mapped_options(ctx.config))
    name = os.path.basename(path)
    if not read.stops:
        raise InputError(f"{name} holds no usable stops ({len(read.skipped)} rows skipped); "
                         "the published data is left as it was")
    twice = [i for i, n in Counter(s.stop_id for s in read.stops).items() if n > 1]
    if twice:
        raise InputError(f"{name}: {len(twice)} stop id(s) appear more than once; stable "
                         "ids must be unique")
    for row in read.skipped[:5]:
        ctx.log("skipped line %s: %s", row.line, row.reason)  # ids are the file's content
    ctx.counts.update(official_read=len(read.stops), official_skipped=len(read.skipped),
                      official_places=sum(s.level == "place" for s in read.stops))
    ctx.state["official"] = _within_scope(ctx, read.stops, name)
    ctx.progress(len(read.stops), len(read.stops))


def _within_scope(ctx: RunContext, stops: list, name: str) -> list:
    """The rows this import matches and publishes; the others are counted by reason."""
    config = ctx.config
    area = None
    if config.get("coverage", "osm") == "osm":
        with ctx.conn.cursor() as cur:
            area = scope.osm_coverage(cur, config.get("coverage_margin_m",
                                                      scope.DEFAULT_MARGIN_M))
        if area is None:
            ctx.log("no OSM data is published yet: every registry row is kept")
    wanted = scope.Scope(
        area=area,
        countries=frozenset(config["countries"]) if config.get("countries") else None,
        stop_points_only=bool(config.get("stop_points_only")))
    kept, left_out = scope.limit(stops, wanted)
    ctx.counts.update({f"left_out_{reason}": n for reason, n in sorted(left_out.items())})
    if left_out:
        ctx.log("left out %d of %d registry rows: %s", sum(left_out.values()), len(stops),
                ", ".join(f"{n} {reason.replace('_', ' ')}" for reason, n in
                          sorted(left_out.items())))
    if not kept:
        raise InputError(f"{name}: none of its {len(stops)} stops is in scope ("
                         + ", ".join(f"{n} {r.replace('_', ' ')}" for r, n in
                                     sorted(left_out.items()))
                         + "); is the OSM data of the same area? Set coverage to 'all' to "
                         "import them anyway. The published data is left as it was")
    ctx.counts["official_in_scope"] = len(kept)
    return kept


# --- stage, match, problems ------------------------------------------------------------

def _point(lon: float, lat: float) -> str:
    return f"SRID=4326;POINT({lon!r} {lat!r})"


def _json(evidence: dict) -> str:
    """Evidence as JSON text for a jsonb column; the matcher's numbers may be numpy's."""
    return orjson.dumps(evidence, option=orjson.OPT_SERIALIZE_NUMPY).decode()


def stage(ctx: RunContext) -> None:
    """COPY the registry into staging, in the transaction publish commits."""
    tables = _tables(ctx)
    stops = ctx.state["official"]
    with ctx.conn.cursor() as cur:
        cur.execute(load_sql(PACKAGE, "create_staging.sql", **tables, **official_sql()))
        with CopyPipe(cur) as pipe:
            writer = pipe.table(tables["official"], OFFICIAL_COLUMN_NAMES)
            for n, s in enumerate(stops, start=1):
                writer.add(official_row(s))
                if n % 5000 == 0:
                    ctx.progress(n, len(stops))
        cur.execute(load_sql(PACKAGE, "index_staging.sql", **tables))
    ctx.progress(len(stops), len(stops))


def match(ctx: RunContext) -> None:
    """Decisions first: each is judged against the data now, and only those whose evidence
    is unchanged go to the matcher."""
    official = ctx.state["official"]
    by_id = {s.stop_id: s for s in official}
    with ctx.conn.cursor() as cur:
        osm = store.load_osm_stops(cur, _tables(ctx)["official"],
                                   ctx.config.get("osm_within_m"))
        decisions = store.load_decisions(cur)
        by_key = {s.key: s for s in osm}
        wanted = {d.osm_key for d in decisions if d.osm_key} - set(by_key)
        decided_osm = store.load_osm_by_key(cur, wanted)
    verdicts = store.judge_decisions(decisions, by_id, {**by_key, **decided_osm})
    # a pair decided by hand may name an OSM stop outside the considered area
    needed = {v.decision.osm_key for v in verdicts
              if v.applied and v.decision.action in ("confirm", "manual")}
    osm += [decided_osm[k] for k in sorted(needed & set(decided_osm))]
    ctx.progress(0, 1)
    result = match_stops(official, osm, DEFAULT_PROFILE, store.matcher_decisions(verdicts))
    ctx.progress(1, 1)
    ctx.state.update(result=result, verdicts=verdicts, osm={s.key: s for s in osm})
    applied = sum(v.applied for v in verdicts)
    ctx.counts.update(osm_stops=len(osm), matches=len(result.matches),
                      unmatched_official=len(result.unmatched_official),
                      unmatched_osm=len(result.unmatched_osm),
                      decisions_applied=applied, decisions_flagged=len(verdicts) - applied)
    ctx.log("matched %d pairs (%s) with profile %s; %d decisions applied, %d flagged",
            len(result.matches), ", ".join(f"{k} {v}" for k, v in result.stage_counts.items()),
            result.profile["version"], applied, len(verdicts) - applied)


def find_problems(ctx: RunContext) -> None:
    """COPY matches and problems into staging; problems an applied decision settles are
    linked to it (the same rule the review applies when a decision is made)."""
    tables = _tables(ctx)
    result, osm = ctx.state["result"], ctx.state["osm"]
    official = {s.stop_id: s for s in ctx.state["official"]}
    version = result.profile["version"]
    with ctx.conn.cursor() as cur:
        with CopyPipe(cur) as pipe:
            matches = pipe.table(tables["matches"], MATCH_COLUMNS)
            for m in result.matches:
                o, s = official[m.official_id], osm[m.osm_key]
                matches.add((m.official_id, m.osm_key, m.method, m.stage, m.score,
                             m.distance_m, o.name, s.name, _json(m.evidence), version,
                             f"SRID=4326;LINESTRING({o.lon!r} {o.lat!r},{s.lon!r} {s.lat!r})"))
            problems = pipe.table(tables["problems"], PROBLEM_COLUMNS)
            for p in result.problems:
                problems.add((p.type, p.priority, p.official_id, p.osm_key, grid_area(p),
                              _json(p.evidence),
                              None if p.lon is None else _point(p.lon, p.lat)))
        applied = [v.decision.id for v in ctx.state["verdicts"] if v.applied]
        resolved = store.resolve_problems(cur, tables["problems"], applied)
    ctx.state["statistics"] = problem_statistics(result.problems)
    ctx.counts.update(problems=len(result.problems),
                      problems_open=len(result.problems) - resolved)
    ctx.progress(len(result.problems), len(result.problems))


# --- publish and reapply ---------------------------------------------------------------

def publish(ctx: RunContext) -> None:
    tables = _tables(ctx)
    result = ctx.state["result"]
    ctx.ensure_lock()
    with ctx.conn.cursor() as cur:
        ctx.progress(0, 4)
        cur.execute(load_sql(PACKAGE, "publish_official.sql", **tables, **official_sql()))
        inserted, updated, deleted = cur.fetchone()
        ctx.progress(1, 4)
        cur.execute(load_sql(PACKAGE, "publish_matches.sql", **tables))
        ctx.progress(2, 4)
        cur.execute(load_sql(PACKAGE, "publish_problems.sql", **tables))
        ctx.progress(3, 4)
        cur.execute(load_sql(PACKAGE, "drop_staging.sql", **tables))
        ctx.counts.update(official_inserted=inserted, official_updated=updated,
                          official_deleted=deleted)
        counts = {**ctx.counts, "stages": result.stage_counts, "methods": result.method_counts,
                  "problems_by_type": ctx.state["statistics"]["by_type"]}
        cur.execute(load_sql(PACKAGE, "record_publication.sql"), {
            "run_id": ctx.run_id, "pipeline": ctx.pipeline, "source": ctx.config["source"],
            "format": ctx.state["format"], "profile_version": result.profile["version"],
            "profile": Json(result.profile), "counts": Json(counts)})
    ctx.ensure_lock()
    ctx.conn.commit()
    ctx.map_changed(tilecache.STOPS)
    ctx.progress(4, 4)
    ctx.log("published %d official stops (+%d ~%d -%d), %d matches, %d problems",
            len(ctx.state["official"]), inserted, updated, deleted, len(result.matches),
            len(result.problems))


def reapply(ctx: RunContext) -> None:
    """Record what this import made of each decision; one a reviewer changed meanwhile is
    left as they wrote it."""
    verdicts = ctx.state["verdicts"]
    with ctx.conn.cursor() as cur:
        rows = [(v.decision.id, v.decision.updated_at, v.status,
                 None if v.applied else f"run {ctx.run_id}: {v.reason}") for v in verdicts]
        mark = load_sql(PACKAGE, "mark_decisions.sql").as_string(cur)
        changed = execute_values(cur, mark, rows, template="(%s, %s::timestamptz, %s, %s)",
                                 fetch=True) if rows else []
    ctx.conn.commit()
    for v in verdicts:
        if not v.applied:
            ctx.log("decision %d (%s %s %s) needs review: %s", v.decision.id,
                    v.decision.action, v.decision.official_id or "-", v.decision.osm_key or "-",
                    v.reason)
    ctx.counts.update(decisions_changed=len(changed))
    ctx.progress(len(verdicts), len(verdicts))


STOPS_IMPORT = PipelineKind(
    name="stops_import",
    title="Public transport stops: official registry matched with OSM",
    phases=(Phase("fetch", fetch), Phase("parse", parse), Phase("stage", stage),
            Phase("match", match), Phase("problems", find_problems),
            Phase("publish", publish), Phase("reapply", reapply)),
    validate_config=validate_config,
    cleanup=discard_uncommitted,
    # every stops import publishes into the same tables: one at a time, whatever the pipeline
    lock_scope="kind",
)
