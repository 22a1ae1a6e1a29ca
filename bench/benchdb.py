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
