"""Helpers shared by the OSM import tests: pipelines made in the database, runs executed
by the same RunWorker the scheduler uses."""

from __future__ import annotations

import json
import math
import socket

import psycopg2
import redis as redis_lib

from matching_and_import_db.layers.catalog import catalog
from matching_and_import_db.pipelines.runner import RunWorker, request_run
from matching_and_import_db.pipelines.sources import DEFAULT_MAX_DOWNLOAD_BYTES, SourcePolicy


def gen_pipeline(conn, name: str, source: str, schedule: str | None = None,
                 kind: str = "osm_import") -> int:
    with conn.cursor() as cur:
        cur.execute("INSERT INTO pipelines (name, kind, config, schedule, enabled) "
                    "VALUES (%s, %s, %s, %s, true) RETURNING id",
                    (name, kind, json.dumps({"source": source}), schedule))
        pipeline_id = cur.fetchone()[0]
    conn.commit()
    return pipeline_id


def source_policy(env: dict[str, str]) -> SourcePolicy:
    """Where the tests' pipelines may read, as the scheduler takes it from its settings."""
    return SourcePolicy.of(env.get("PORTAL_IMPORT_DIR", ""),
                           env.get("PORTAL_SOURCE_ALLOWED_HOSTS", ""),
                           int(env.get("PORTAL_SOURCE_MAX_BYTES", DEFAULT_MAX_DOWNLOAD_BYTES)))


def run_worker(env: dict[str, str]) -> RunWorker:
    """A pipeline worker in this process, built as the scheduler builds its own (the tile
    cache told what runs publish included)."""
    dsn = env["PORTAL_DATABASE_URL"]
    redis = redis_lib.Redis.from_url(env["PORTAL_REDIS_URL"])
    return RunWorker(lambda: psycopg2.connect(dsn), redis,
                     worker=f"{socket.gethostname()}:tests", lease_seconds=30,
                     data_dir=env["PORTAL_DATA_DIR"], sources=source_policy(env),
                     tiles=catalog().tile_invalidator(redis))


def run_inline(env: dict[str, str], pipeline_id: int) -> dict:
    """Queue a run and execute it in this process; return its row."""
    conn = psycopg2.connect(env["PORTAL_DATABASE_URL"])
    try:
        run_id = request_run(conn, pipeline_id)
        run_worker(env).run_pending()
        return run_row(conn, run_id)
    finally:
        conn.close()


def run_row(conn, run_id: int) -> dict:
    with conn.cursor() as cur:
        cur.execute("SELECT id, status, message, counts, phase_seconds, worker, phase, log "
                    "FROM pipeline_runs WHERE id = %s", (run_id,))
        cols = [d[0] for d in cur.description]
        row = dict(zip(cols, cur.fetchone(), strict=True))
    conn.commit()
    return row


def published_fingerprint(conn) -> tuple:
    """Counts and a checksum of everything published, to prove it did not change."""
    with conn.cursor() as cur:
        cur.execute(
            "SELECT (SELECT count(*) FROM osm_roads), (SELECT count(*) FROM osm_stops), "
            "(SELECT md5(string_agg(osm_id::text || highway || coalesce(name, '') "
            "   || ST_AsText(geom), ',' ORDER BY osm_id)) FROM osm_roads), "
            "(SELECT md5(string_agg(osm_type || osm_id || kind || coalesce(name, '') "
            "   || ST_AsText(geom), ',' ORDER BY osm_type, osm_id)) FROM osm_stops)")
        row = cur.fetchone()
    conn.commit()
    return row


def cached_tile_key(redis, layer: str, z: int, x: int, y: int) -> str:
    """The Redis key the tile cache keeps a layer's tile under (its current generation)."""
    gen = (redis.get(f"tiles:{layer}:gen") or b"0").decode()
    return f"tiles:{layer}:{gen}:{z}/{x}/{y}"


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int, int]:
    """The web-mercator tile (z, x, y) holding a point."""
    n = 2 ** z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return z, x, y
