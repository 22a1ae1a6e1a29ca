"""A database of the benchmarks' own: made fresh from the PostGIS template and migrated by
the real migrator, beside the portal's database (never inside it)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import psycopg2
from sqlalchemy.engine import make_url
from synth_city import load_roads_as_osm_roads

ROOT = Path(__file__).resolve().parents[1]


def fresh_database(base_url: str, name: str) -> str:
    """Drop and create database `name` next to base_url's; return its libpq URL.

    PORTAL_BENCH_DB_SUFFIX is appended to the name, so benchmarks run side by side (by
    several people on one server) do not drop each other's database."""
    name += os.environ.get("PORTAL_BENCH_DB_SUFFIX", "")
    url = make_url(base_url).set(database=name)
    admin = make_url(base_url).set(database="postgres").render_as_string(hide_password=False)
    conn = psycopg2.connect(admin)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        template = os.environ.get("PORTAL_TEST_TEMPLATE")
        suffix = f' TEMPLATE "{template}"' if template else ""
        cur.execute(f'CREATE DATABASE "{name}"' + suffix)
    conn.close()
    dsn = url.render_as_string(hide_password=False)
    env = {**os.environ, "PORTAL_DATABASE_URL": dsn}
    subprocess.run([sys.executable, "-m", "migrator"], env=env, cwd=ROOT, check=True,
                   capture_output=True)
    return dsn


def load_synthetic_city_roads(dsn: str, id_offset: int = 0) -> int:
    """The synthetic city's 300,000 roads (bench/synth_city.py) as osm_roads rows
    (ids + id_offset); its buildings and points are not made. Returns the number of roads."""
    return load_roads_as_osm_roads(dsn, id_offset)


def run_pipeline_once(conn, dsn: str, redis_url: str, data_dir: str, pipeline_id: int,
                      import_dir: str) -> tuple[float, dict]:
    """Queue one run of the pipeline and execute it here as the scheduler would (the
    benchmark's own file's directory as the import directory); its seconds and counts.
    Closes conn; a failed run ends the benchmark with its message."""
    import socket
    import time

    import redis as redis_lib

    from matching_and_import_db.pipelines.runner import RunWorker, request_run
    from matching_and_import_db.pipelines.sources import SourcePolicy

    request_run(conn, pipeline_id)
    worker = RunWorker(lambda: psycopg2.connect(dsn), redis_lib.Redis.from_url(redis_url),
                       worker=f"{socket.gethostname()}:bench", lease_seconds=60,
                       data_dir=data_dir, sources=SourcePolicy.of(import_dir, ""))
    started = time.perf_counter()
    worker.run_pending()
    seconds = time.perf_counter() - started
    with conn.cursor() as cur:
        cur.execute("SELECT status, message, counts FROM pipeline_runs")
        status, message, counts = cur.fetchone()
    conn.close()
    if status != "succeeded":
        raise SystemExit(f"our import failed: {message}")
    return seconds, counts
