"""bench/osm_import: our pipeline's OSM import against osm2pgsql on the same file and database.

Both start from empty tables in every repetition; the median of the repetitions is compared.
Ours is timed in-process around one pipeline run (fetch → stage → publish, run bookkeeping
included); osm2pgsql as its process (create mode, flex output, bench/osm2pgsql_style.lua).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import psycopg2

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchdb import fresh_database, run_pipeline_once  # noqa: E402

STYLE = ROOT / "bench" / "osm2pgsql_style.lua"


def prepare_database(base_url: str) -> str:
    dsn = fresh_database(base_url, "portal_bench")
    conn = psycopg2.connect(dsn)
    conn.autocommit = True
    conn.cursor().execute("CREATE SCHEMA IF NOT EXISTS osm2pgsql_bench")
    conn.close()
    return dsn


def run_ours(dsn: str, path: Path, redis_url: str, data_dir: str,
             fresh: bool = True) -> tuple[float, dict]:
    """One pipeline run; fresh: into empty tables, else over the data already published."""
    conn = psycopg2.connect(dsn)
    with conn.cursor() as cur:
        tables = "osm_roads, osm_stops, pipeline_runs, pipelines" if fresh else \
            "pipeline_runs, pipelines"
        cur.execute(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")
        cur.execute("INSERT INTO pipelines (name, kind, config, enabled) VALUES "
                    "('bench', 'osm_import', %s, true) RETURNING id",
                    (json.dumps({"source": str(path)}),))
        pipeline_id = cur.fetchone()[0]
    conn.commit()
    seconds, counts = run_pipeline_once(conn, dsn, redis_url, data_dir, pipeline_id,
                                        str(Path(path).resolve().parent))
    return seconds, counts


def run_osm2pgsql(dsn: str, path: Path) -> tuple[float, dict]:
    conn = psycopg2.connect(dsn)
    conn.autocommit = True
    conn.cursor().execute("DROP TABLE IF EXISTS osm2pgsql_bench.roads, osm2pgsql_bench.stops")
    started = time.perf_counter()
    subprocess.run(["osm2pgsql", "--create", "--output=flex", f"--style={STYLE}",
                    "--cache=1000", "--number-processes=2", f"--database={dsn}", str(path)],
                   check=True, capture_output=True)
    seconds = time.perf_counter() - started
    with conn.cursor() as cur:
        cur.execute("SELECT (SELECT count(*) FROM osm2pgsql_bench.roads), "
                    "(SELECT count(*) FROM osm2pgsql_bench.stops)")
        roads, stops = cur.fetchone()
    conn.close()
    return seconds, {"roads": roads, "stops": stops}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--file", type=Path, default=ROOT / "demo" / "oslo-east-filtered.osm.pbf")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    dsn = prepare_database(os.environ["PORTAL_DATABASE_URL"])
    redis_url = os.environ.get("PORTAL_REDIS_URL", "redis://127.0.0.1:6379/0")
    data_dir = os.environ.get("PORTAL_DATA_DIR", str(ROOT / "var" / "data"))
    ours, theirs = [], []
    for i in range(args.repeat):
        # alternate the order so neither always meets a warmer cache
        if i % 2 == 0:
            ours.append(run_ours(dsn, args.file, redis_url, data_dir))
            theirs.append(run_osm2pgsql(dsn, args.file))
        else:
            theirs.append(run_osm2pgsql(dsn, args.file))
            ours.append(run_ours(dsn, args.file, redis_url, data_dir))
    # the nightly case: the same file again over published data (merge, nothing changes)
    reimport = [run_ours(dsn, args.file, redis_url, data_dir, fresh=False)
                for _ in range(args.repeat)]
    reimport_s = statistics.median(t for t, _ in reimport)
    ours_s = statistics.median(t for t, _ in ours)
    theirs_s = statistics.median(t for t, _ in theirs)
    counts, their_counts = ours[-1][1], theirs[-1][1]

    print(f"file: {args.file.name} ({args.file.stat().st_size / 1e6:.1f} MB), "
          f"{args.repeat} repetitions each, medians")
    print(f"{'':12} {'seconds':>8} {'roads':>7} {'stops':>6}")
    print(f"{'ours':12} {ours_s:8.3f} {counts['roads_inserted']:7d} "
          f"{counts['stops_inserted']:6d}")
    print(f"{'osm2pgsql':12} {theirs_s:8.3f} {their_counts['roads']:7d} "
          f"{their_counts['stops']:6d}")
    print(f"{'ours, again':12} {reimport_s:8.3f}   (same file over published data: "
          f"{reimport[-1][1]['roads_updated']} roads changed)")
    print(f"ratio ours/osm2pgsql: {ours_s / theirs_s:.2f} (below 1 means ours is faster); "
          f"re-import/osm2pgsql: {reimport_s / theirs_s:.2f}")
    print(json.dumps({"ours_s": round(ours_s, 3), "osm2pgsql_s": round(theirs_s, 3),
                      "ratio": round(ours_s / theirs_s, 3), "file": args.file.name,
                      "ours_reimport_s": round(reimport_s, 3),
                      "reimport_ratio": round(reimport_s / theirs_s, 3),
                      "roads": counts["roads_inserted"], "stops": counts["stops_inserted"],
                      "osm2pgsql_roads": their_counts["roads"],
                      "osm2pgsql_stops": their_counts["stops"], "repeat": args.repeat}))


if __name__ == "__main__":
    main()
