"""bench/ride_memory: peak memory of the largest ride the limits allow.

The ride: 24 hours at 1 Hz (86,400 fixes, PORTAL_RIDE_MAX_HOURS at its default) of an
OpenBikeSensor CSV along a random route over the Oslo street network (the demo extract,
imported with our pipeline), and a GPX file of PORTAL_RIDE_MAX_POINTS (100,000) points.
Each step runs in a fresh Python process, which reports its own peak RSS (ru_maxrss):

- upload: what a web worker does with the file (gzip unpacked, parsed, checked);
- processing: what the scheduler does with each, claim to commit (read, parse, clean, load
  the roads near it, snap, write events, passes and statistics);
- baseline: the same imports and nothing else, to tell the ride's share.

Its last line is JSON.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import resource
import subprocess
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

HOURS = 24
GPX_POINTS = 100_000


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _imports() -> None:
    import psycopg2  # noqa: F401

    from matching_and_import_db.rides import processing, rawstore  # noqa: F401


def step(kind: str, arg: str, dsn: str, data_dir: str) -> dict:
    _imports()
    if kind == "baseline":
        return {"peak_mb": _peak_mb()}
    from matching_and_import_db.rides import rawstore
    from matching_and_import_db.rides.model import RideLimits
    from matching_and_import_db.rides.parse import parse_ride_file
    if kind == "upload":
        data = Path(arg).read_bytes()
        content = rawstore.decompress_upload(data, 32 * 1024 * 1024)
        parsed = parse_ride_file(content, Path(arg).name, RideLimits())
        return {"peak_mb": _peak_mb(), "points": len(parsed.points), "bytes": len(data)}
    import psycopg2

    from matching_and_import_db.rides import store
    from matching_and_import_db.rides.processing import ProcessingConfig, process_claimed
    conn = psycopg2.connect(dsn)
    claim = store.claim_next_ride(conn, "bench:memory", 600)
    status = process_claimed(conn, claim, "bench:memory",
                             ProcessingConfig(data_dir=data_dir, lease_seconds=600))
    with conn.cursor() as cur:
        cur.execute("SELECT points_total, points_matched, status_message FROM rides "
                    "WHERE id = %s", (claim.ride_id,))
        total, matched, message = cur.fetchone()
    return {"peak_mb": _peak_mb(), "status": status, "points": total, "matched": matched,
            "message": message}


def _run_step(kind: str, arg: str, dsn: str, data_dir: str) -> dict:
    out = subprocess.run([sys.executable, __file__, "--step", kind, arg, dsn, data_dir],
                         capture_output=True, text=True, check=True, cwd=ROOT)
    return json.loads(out.stdout.strip().splitlines()[-1])


def _gpx(lon, lat, start: datetime) -> bytes:
    points = "".join(
        f'<trkpt lat="{lat[k % len(lat)]:.7f}" lon="{lon[k % len(lon)]:.7f}">'
        f"<time>{start + timedelta(seconds=k * 0.8):%Y-%m-%dT%H:%M:%S.%fZ}</time></trkpt>\n"
        for k in range(GPX_POINTS))
    return (f'<?xml version="1.0"?>\n<gpx version="1.1" creator="bench" '
            f'xmlns="http://www.topografix.com/GPX/1/1"><trk><trkseg>\n{points}'
            f"</trkseg></trk></gpx>\n").encode()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--step", nargs=4, metavar=("KIND", "ARG", "DSN", "DATA_DIR"))
    parser.add_argument("--database", default="portal_bench_ride_memory")
    args = parser.parse_args()
    if args.step:
        print(json.dumps(step(*args.step)))
        return

    import psycopg2
    from benchdb import fresh_database
    from osm_import import run_ours as import_osm
    from ride_processing import OSLO, obs_csv, queue_ride, random_route, sample_ride

    dsn = fresh_database(os.environ["PORTAL_DATABASE_URL"], args.database)
    redis_url = os.environ.get("PORTAL_REDIS_URL", "redis://127.0.0.1:6379/0")
    data_dir = tempfile.mkdtemp(prefix="bench-ride-memory-")
    import_osm(dsn, OSLO, redis_url, data_dir)
    conn = psycopg2.connect(dsn)
    seconds = HOURS * 3600
    route = random_route(conn, length_m=seconds * 5.0 + 500, seed=11)
    lon, lat = sample_ride(route, seconds=seconds, speed_ms=5.0, noise_m=4.0, seed=11)
    start = datetime(2024, 5, 6, 0, 0, tzinfo=UTC)
    csv_bytes = obs_csv(lon, lat, start, event_every_s=60, seed=11)
    files = {"csv_24h": Path(data_dir) / "ride.csv.gz", "gpx_100k": Path(data_dir) / "ride.gpx"}
    files["csv_24h"].write_bytes(gzip.compress(csv_bytes))
    files["gpx_100k"].write_bytes(_gpx(lon, lat, start))
    queue_ride(conn, data_dir, csv_bytes)
    queue_ride(conn, data_dir, files["gpx_100k"].read_bytes())  # claimed second
    conn.close()

    results = {"baseline": _run_step("baseline", "-", dsn, data_dir)}
    for name, path in files.items():
        results[f"upload_{name}"] = _run_step("upload", str(path), dsn, data_dir)
    results["processing_csv_24h"] = _run_step("process", "-", dsn, data_dir)
    results["processing_gpx_100k"] = _run_step("process", "-", dsn, data_dir)
    for name, r in results.items():
        print(f"{name:24} peak RSS {r['peak_mb']:7.0f} MB  "
              + " ".join(f"{k}={v}" for k, v in r.items() if k != "peak_mb"))
    print(json.dumps({name: round(r["peak_mb"]) for name, r in results.items()}))


if __name__ == "__main__":
    main()
