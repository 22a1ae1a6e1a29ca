"""bench/serving: vector tiles and OGC API Features, ours against tipg and the database's
own ceiling, side by side on the same PostGIS data in one run.

Data: the synthetic city (bench/synth_city.py, 300,000 road segments around Berlin,
generated) as osm_roads, plus ride layers over it (public rides, overtaking events,
road statistics), in a database of the benchmark's own.

- ours: gunicorn serving the app as entrypoint.sh does (gthread: keep-alive), 4 workers of
  4 threads. Cold tiles come from an instance with
  PORTAL_TILE_CACHE_SECONDS=0 (every request looks the tile up in Redis, misses, and has
  PostGIS render it: the weighted list repeats low-zoom tiles, so a cache would turn
  them warm); warm tiles and 304 revalidation from an instance with the normal cache,
  after one pass over the list.
- tipg 1.6 (uvicorn, 4 workers, in its own virtualenv var/bench-tipg-venv): the same
  roads table as tiles (WebMercatorQuad) and items; tipg caches nothing, so its tile figure
  is both its cold and its warm.
- ceiling: our roads tile SQL, run by pgbench over the same tile list.

Load: wrk on loopback, time-bounded runs over the fixed weighted z8-z16 tile list
(bench/tile_sample.py: 3,000 tiles, made at run time from a fixed seed) and fixed bboxes for
items?limit=100, at 1, 8 and 32 connections. Ratios are req/s at 8 connections. The last
line is JSON.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psycopg2
import redis as redis_lib
import requests
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from benchdb import fresh_database, load_synthetic_city_roads  # noqa: E402
from benchserver import free_port, wait_up  # noqa: E402
from tile_sample import tile_sample  # noqa: E402

TIPG_VENV = ROOT / "var" / "bench-tipg-venv"
TIPG_VERSION = "1.6.1"
CENTRE = (13.40, 52.52)  # the synthetic city
HALF_DEG = (0.26, 0.16)  # about 33 km of mercator around it, in degrees
WORKERS = 4


# --- data ------------------------------------------------------------------------------------

def load_city(dsn: str) -> dict:
    roads = load_synthetic_city_roads(dsn)
    conn = psycopg2.connect(dsn)
    conn.autocommit = True
    with conn.cursor() as cur:
        # the ride layers: 300 public rides, 100,000 events on a third of the roads, and
        # the road statistics those events make
        cur.execute("INSERT INTO users (issuer, subject, role) VALUES ('bench', 'bench', 'user') "
                    "RETURNING id")
        user_id = cur.fetchone()[0]
        cur.execute("INSERT INTO rides (user_id, public, raw_sha256, raw_size, uploaded_via, "
                    "status, attempts, recorded_at) SELECT %s, true, md5(g::text), 0, 'api', "
                    "'complete', 1, timestamptz '2024-01-01' + g * interval '1 day' "
                    "FROM generate_series(1, 300) g", (user_id,))
        cur.execute("SELECT setseed(0.7)")
        cur.execute("""
            INSERT INTO ride_events (ride_id, time, distance_left, distance_right, speed,
                                      way_id, direction, legal_minimum, geom)
            SELECT t.id, t.recorded_at + (r.osm_id % 3600) * interval '1 second',
                   0.5 + random() * 2.5, NULL, 15 + random() * 15, r.osm_id, 1, 1.5,
                   ST_LineInterpolatePoint(r.geom, random())
            FROM (SELECT osm_id, geom, row_number() OVER () AS n FROM osm_roads
                  WHERE osm_id % 3 = 0 LIMIT 100000) r
            JOIN rides t ON t.id = (SELECT min(id) FROM rides) + r.n % 300""")
        events = cur.rowcount
        cur.execute("""
            INSERT INTO road_stats (way_id, direction, passes, events, distance_mean,
                                    distance_median, distance_min, distance_max,
                                    below_minimum, legal_minimum, histogram)
            SELECT way_id, direction, count(*) + 2, count(*), avg(distance_left),
                   avg(distance_left), min(distance_left), max(distance_left),
                   count(*) FILTER (WHERE distance_left < legal_minimum), 1.5, '[]'
            FROM ride_events GROUP BY way_id, direction""")
        cur.execute("VACUUM ANALYZE")
    conn.close()
    return {"roads": roads, "events": events}


def bboxes(count: int = 300) -> list[str]:
    """Fixed bboxes of about 400 x 400 m inside the city."""
    rnd = random.Random(7)
    out = []
    for _ in range(count):
        lon = CENTRE[0] + (rnd.random() - 0.5) * 2 * HALF_DEG[0] * 0.9
        lat = CENTRE[1] + (rnd.random() - 0.5) * 2 * HALF_DEG[1] * 0.9
        out.append(f"{lon:.5f},{lat:.5f},{lon + 0.006:.5f},{lat + 0.0036:.5f}")
    return out


# --- servers ---------------------------------------------------------------------------------



def start_ours(dsn: str, redis_url: str, cache_seconds: int, log: Path):
    port = free_port()
    env = {**os.environ, "PORTAL_DATABASE_URL": dsn, "PORTAL_REDIS_URL": redis_url,
           "PORTAL_PUBLIC_URL": f"http://127.0.0.1:{port}",
           "PORTAL_TILE_CACHE_SECONDS": str(cache_seconds),
           "PORTAL_RATELIMIT_DEFAULT": "100000000 per minute",
           "PORTAL_RATELIMIT_TILES": "100000000 per minute", "PORTAL_LOG_LEVEL": "WARNING"}
    proc = subprocess.Popen(
        [str(Path(sys.executable).parent / "gunicorn"), "-w", str(WORKERS), "--threads", "4",
         "-b", f"127.0.0.1:{port}", "--log-level", "warning", "app:create_app()"],
        cwd=ROOT, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT,
        start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    wait_up(base + "/livez", proc)
    return proc, base


def ensure_tipg() -> Path:
    python = TIPG_VENV / "bin" / "python"
    stamp = TIPG_VENV / ".tipg-version"
    if not python.exists() or not stamp.exists() or stamp.read_text() != TIPG_VERSION:
        shutil.rmtree(TIPG_VENV, ignore_errors=True)
        subprocess.run([sys.executable, "-m", "venv", str(TIPG_VENV)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q",
                        f"tipg=={TIPG_VERSION}", "uvicorn"], check=True)
        stamp.write_text(TIPG_VERSION)
    return TIPG_VENV / "bin" / "uvicorn"


def start_tipg(dsn: str, log: Path):
    uvicorn = ensure_tipg()
    port = free_port()
    env = {**os.environ, "DATABASE_URL": dsn, "TIPG_DB_SCHEMAS": '["public"]',
           "TIPG_DB_TABLES": '["public.osm_roads"]'}
    proc = subprocess.Popen(
        [str(uvicorn), "tipg.main:app", "--host", "127.0.0.1", "--port", str(port),
         "--workers", str(WORKERS), "--log-level", "warning", "--no-access-log"],
        cwd=tempfile.gettempdir(), env=env, stdout=log.open("w"), stderr=subprocess.STDOUT,
        start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    wait_up(base + "/collections", proc, timeout=120)
    return proc, base


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


# --- load ------------------------------------------------------------------------------------

WRK_LUA = r"""
local lines = {}
for line in io.lines(os.getenv("PATHS")) do lines[#lines + 1] = line end
local counter = 0
local threads = {}
function setup(thread) thread:set("tid", #threads); table.insert(threads, thread) end
function init(args) counter = tid * 997 end
function request()
  counter = counter + 1
  local line = lines[(counter % #lines) + 1]
  local path, etag = line:match("^(%S+)%s*(%S*)$")
  if etag ~= "" then
    return wrk.format("GET", path, {["If-None-Match"] = etag})
  end
  return wrk.format("GET", path)
end
function done(summary, latency, requests)
  io.write(string.format("RESULT p50=%.3f p99=%.3f requests=%d status_errors=%d "
    .. "timeouts=%d\n", latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    summary.requests, summary.errors.status, summary.errors.timeout))
end
"""


def wrk(base: str, lines: list[str], conns: int, seconds: int, workdir: Path) -> dict:
    paths = workdir / "paths.txt"
    paths.write_text("\n".join(lines) + "\n")
    script = workdir / "bench.lua"
    script.write_text(WRK_LUA)
    threads = 1 if conns == 1 else 2
    out = subprocess.run(
        ["wrk", "-t", str(threads), "-c", str(conns), "-d", f"{seconds}s", "--timeout", "30s",
         "-s", str(script), base], env={**os.environ, "PATHS": str(paths)},
        capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    m = re.search(r"RESULT p50=([\d.]+) p99=([\d.]+) requests=(\d+) status_errors=(\d+) "
                  r"timeouts=(\d+)", out)
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    return {"rps": rps, "p50": float(m.group(1)), "p99": float(m.group(2)),
            "requests": int(m.group(3)),
            "errors": int(m.group(5)) + (int(non2xx.group(1)) if non2xx else 0)}


def pgbench(dsn: str, tiles: list[str], conns: int, seconds: int, workdir: Path) -> dict:
    from matching_and_import_db.layers.builtin import ROADS
    from matching_and_import_db.layers.query import tile_sql
    from matching_and_import_db.rides.visibility import RideFilter
    conn = psycopg2.connect(dsn)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("DROP TABLE IF EXISTS bench_tiles")
        cur.execute("CREATE TABLE bench_tiles (i int PRIMARY KEY, z int, x int, y int)")
        cur.executemany("INSERT INTO bench_tiles VALUES (%s, %s, %s, %s)",
                        [(i + 1, *map(int, t.split("/"))) for i, t in enumerate(tiles)])
    conn.close()
    # our tile SQL; its SET LOCAL (no parallel workers) becomes a session setting here, as
    # pgbench sends each statement on its own
    conn = psycopg2.connect(dsn)
    sql = tile_sql(ROADS, RideFilter()).as_string(conn).split("; ", 1)[1]
    conn.close()
    for name, value in (("z", ":z"), ("x", ":x"), ("y", ":y"), ("cap", "20000"),
                        ("tolerance", "(40075016.68557849 / power(2, :z) / 1024)"),
                        ("pixel", "(40075016.68557849 / power(2, :z) / 512)")):
        sql = sql.replace(f"%({name})s", value)
    sql = sql.replace("%%", "%")  # the driver's escape of a literal %, undone for pgbench
    script = workdir / "tile.sql"
    script.write_text(f"\\set i random(1, {len(tiles)})\n"
                      "SELECT z, x, y FROM bench_tiles WHERE i = :i \\gset\n"
                      f"{sql};\n")
    for old in workdir.glob("pgbench_log*"):
        old.unlink()
    url = make_url(dsn)
    env = {**os.environ, "PGPASSWORD": url.password or "",
           "PGOPTIONS": "-c max_parallel_workers_per_gather=0"}
    out = subprocess.run(
        ["pgbench", "-n", "-f", str(script), "-c", str(conns), "-j", str(min(conns, 2)),
         "-T", str(seconds), "-l", "--log-prefix", str(workdir / "pgbench_log"),
         "-h", url.host or "127.0.0.1", "-p", str(url.port or 5432), "-U", url.username,
         url.database], env=env, capture_output=True, text=True)
    if out.returncode != 0:
        raise SystemExit(f"pgbench failed: {out.stderr[-2000:]}")
    tps = float(re.search(r"tps = ([\d.]+) \(without initial", out.stdout).group(1))
    latencies = []
    for log in workdir.glob("pgbench_log*"):
        for line in log.read_text().splitlines():
            parts = line.split()
            if len(parts) >= 3:
                latencies.append(int(parts[2]) / 1000)
    latencies.sort()
    return {"rps": tps, "p50": _pct(latencies, 50), "p99": _pct(latencies, 99),
            "requests": len(latencies), "errors": 0}


def _pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    return values[min(len(values) - 1, int(math.ceil(p / 100 * len(values))) - 1)]


def prime(base: str, paths: list[str]) -> list[str]:
    """One pass over every distinct path; returns 'path "etag"' lines for revalidation."""
    unique = sorted(set(paths))

    def fetch(path):
        return path, requests.get(base + path, timeout=60).headers.get("ETag", "")
    with ThreadPoolExecutor(8) as pool:
        etags = dict(pool.map(fetch, unique))
    return [f"{p} {etags[p]}" for p in paths]


# --- main ------------------------------------------------------------------------------------

def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=int, default=8, help="length of each load run")
    parser.add_argument("--connections", default="1,8,32")
    args = parser.parse_args()
    conns = [int(c) for c in args.connections.split(",")]

    base_db = os.environ["PORTAL_DATABASE_URL"]
    started = time.monotonic()
    dsn = fresh_database(base_db, "portal_bench_serving")
    data = load_city(dsn)
    print(f"data: {data['roads']} road segments (synthetic Berlin), {data['events']} events "
          f"on public rides; {time.monotonic() - started:.0f} s to load", flush=True)
    redis_url = str(make_url(os.environ.get("PORTAL_REDIS_URL",
                                            "redis://127.0.0.1:6379/0"))).rsplit("/", 1)[0]
    # each instance its own Redis database: the cold one must never see the warm one's tiles
    cold_redis, warm_redis = redis_url + "/12", redis_url + "/13"
    for url in (cold_redis, warm_redis):
        redis_lib.Redis.from_url(url).flushdb()

    tiles = tile_sample()
    ours_tiles = [f"/tiles/roads/{t}.mvt" for t in tiles]
    tipg_tiles = [f"/collections/public.osm_roads/tiles/WebMercatorQuad/{t}" for t in tiles]
    boxes = bboxes()
    ours_items = [f"/ogc/collections/roads/items?limit=100&bbox={b}" for b in boxes]
    tipg_items = [f"/collections/public.osm_roads/items?limit=100&bbox={b}" for b in boxes]

    results: dict[tuple[str, str, int], dict] = {}
    with tempfile.TemporaryDirectory(prefix="bench-serving-") as tmp:
        work = Path(tmp)
        procs = []
        try:
            cold_proc, cold = start_ours(dsn, cold_redis, 0, work / "ours-cold.log")
            procs.append(cold_proc)
            warm_proc, warm = start_ours(dsn, warm_redis, 3600, work / "ours-warm.log")
            procs.append(warm_proc)
            tipg_proc, tipg = start_tipg(dsn, work / "tipg.log")
            procs.append(tipg_proc)
            for path in (cold + ours_tiles[0], cold + ours_items[0], tipg + tipg_tiles[0],
                         tipg + tipg_items[0]):
                resp = requests.get(path, timeout=60)
                if resp.status_code != 200:
                    raise SystemExit(f"{path}: {resp.status_code} {resp.text[:300]}")
            revalidate = prime(warm, ours_tiles)
            for c in conns:
                results[("ours", "cold tiles", c)] = wrk(cold, ours_tiles, c, args.seconds, work)
                results[("tipg", "cold tiles", c)] = wrk(tipg, tipg_tiles, c, args.seconds, work)
                results[("ceiling", "cold tiles", c)] = pgbench(dsn, tiles, c, args.seconds,
                                                                work)
                results[("ours", "warm tiles", c)] = wrk(warm, ours_tiles, c, args.seconds, work)
                results[("ours", "304", c)] = wrk(warm, revalidate, c, args.seconds, work)
                results[("ours", "items", c)] = wrk(cold, ours_items, c, args.seconds, work)
                results[("tipg", "items", c)] = wrk(tipg, tipg_items, c, args.seconds, work)
                print(f"... {c} connections done", flush=True)
        finally:
            for proc in procs:
                stop(proc)

    print(f"\n{'server':8} {'test':11} {'conns':>5} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} "
          f"{'requests':>9} {'errors':>6}")
    for (server, test, c), r in results.items():
        print(f"{server:8} {test:11} {c:5d} {r['rps']:9.1f} {r['p50']:8.2f} {r['p99']:8.2f} "
              f"{r['requests']:9d} {r['errors']:6d}")

    def rps(server, test, c=8):
        return results[(server, test, c)]["rps"]
    ratios = {
        "cold_vs_tipg": round(rps("ours", "cold tiles") / rps("tipg", "cold tiles"), 2),
        "cold_vs_ceiling": round(rps("ours", "cold tiles") / rps("ceiling", "cold tiles"), 2),
        "warm_vs_tipg": round(rps("ours", "warm tiles") / rps("tipg", "cold tiles"), 2),
        "items_vs_tipg": round(rps("ours", "items") / rps("tipg", "items"), 2),
    }
    goals = {"cold_vs_tipg": 1.5, "cold_vs_ceiling": 0.8, "warm_vs_tipg": 20,
             "items_vs_tipg": 2}
    print("\nratios of req/s at 8 connections (goal):")
    for k, v in ratios.items():
        print(f"  {k:16} {v:8.2f}  (>= {goals[k]}) {'ok' if v >= goals[k] else 'MISSED'}")
    summary = {**ratios, "connections": conns, "seconds_per_run": args.seconds,
               "roads": data["roads"], "events": data["events"],
               "req_per_s_8": {f"{s} {t}": round(r["rps"], 1)
                               for (s, t, c), r in results.items() if c == 8},
               "p99_ms_8": {f"{s} {t}": round(r["p99"], 2)
                            for (s, t, c), r in results.items() if c == 8},
               "errors": sum(r["errors"] for r in results.values()),
               "median_p50_ms": round(statistics.median(r["p50"] for r in results.values()),
                                      2)}
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
