"""bench/ride_processing: end-to-end ride processing against a peer map matcher.

Ours: the scheduler's own code from claim to commit (read the raw file, parse, clean, load
the roads near the ride from PostGIS, snap, write events, passes and road statistics in one
transaction), timed per ride, median of the repetitions: wall time, and this process's CPU
time beside it (the database's work is in its own processes; on a loaded machine the CPU
time says what the code costs).

Rides:
- a one-hour synthetic ride (3,600 fixes at 1 Hz, about 5 m/s, 4 m GPS noise, an overtake a
  minute) along a random route over the real Oslo street network (the demo extract, loaded
  with our OSM import);
- the same ride with 6 m of drifting GPS error instead (bench/snapping_eval's error: it stays
  on one side for tens of seconds), where the matcher's drift passes run (ours only: the
  peer's time would not differ);
- the real Berlin ride from the OpenBikeSensor portal's fixtures, over the synthetic Berlin
  city of bench/synth_city.py (300,000 roads; no OSM extract of Berlin is here).

Right on data whose truth we did not make (bench/snapping_eval.py): the real Kubicka GPS
ride over its own road network (share of the true route's length matched), and rides with
drifting GPS error (3 and 6 m) over two Oslo extracts with mapped sidewalks (share of fixes
on the true way), each next to the nearest-way baseline; the JSON's true_way_share is on the
extract nothing was tuned on.

Peer: leuvenmapmatching's DistanceMatcher on the same matching task (the same cleaned fixes,
the same roads our query loads), timed for building its map and matching. The OpenBikeSensor
portal's own snapping code (obs-face) is not on PyPI and cannot be fetched here. The peer
does no parsing and no database work, so the ratio understates our lead.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import socket
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import psycopg2
import shapely

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchdb import fresh_database, load_synthetic_city_roads  # noqa: E402
from osm_import import run_ours as import_osm  # noqa: E402

from matching_and_import_db.geodesy import great_circle_m  # noqa: E402
from matching_and_import_db.rides import changes, rawstore, store  # noqa: E402
from matching_and_import_db.rides.parse import parse_ride_file  # noqa: E402
from matching_and_import_db.rides.processing import (  # noqa: E402
    MATCH_RADIUS_M,
    ProcessingConfig,
    build_network,
    process_claimed,
    ways_from_rows,
)
from matching_and_import_db.rides.ride import prepare_ride  # noqa: E402

OSLO = ROOT / "demo" / "oslo-east-filtered.osm.pbf"
BERLIN = ROOT / "tests" / "fixtures" / "rides" / "obs" / "2022-02-19T12.58.59-b8cf.obsdata.csv"
RIDEABLE = ("primary", "secondary", "tertiary", "residential", "unclassified", "living_street",
            "cycleway", "service", "primary_link", "secondary_link", "tertiary_link")
SYNTH_ID_OFFSET = 10**12  # keeps the synthetic city's road ids apart from OSM ids


# --- the one-hour ride ---------------------------------------------------------------------

def random_route(conn, length_m: float, seed: int) -> list[tuple[float, float]]:
    """A random walk over the street graph (ways meet where they share a vertex): at each
    junction a random way onward, no U-turns unless at a dead end."""
    with conn.cursor() as cur:
        cur.execute("SELECT ST_AsBinary(geom) FROM osm_roads WHERE highway = ANY(%s)",
                    (list(RIDEABLE),))
        lines = [shapely.get_coordinates(shapely.from_wkb(bytes(r[0]))).tolist()
                 for r in cur.fetchall()]
    at_vertex: dict[tuple, list[tuple[int, int]]] = {}
    for w, line in enumerate(lines):
        for i, c in enumerate(line):
            at_vertex.setdefault((round(c[0], 7), round(c[1], 7)), []).append((w, i))
    rng = random.Random(seed)
    way = _start_in_largest_component(lines, at_vertex)
    i, step = 0, 1
    route, total = [lines[way][0]], 0.0
    while total < length_m:
        j = i + step
        if not 0 <= j < len(lines[way]):  # end of the way: turn around (dead end)
            step = -step
            continue
        a, b = lines[way][i], lines[way][j]
        total += float(great_circle_m(a[0], a[1], b[0], b[1]))
        route.append(b)
        i = j
        options = [(w, k, s) for w, k in at_vertex[(round(b[0], 7), round(b[1], 7))]
                   for s in (1, -1) if 0 <= k + s < len(lines[w])
                   and not (w == way and s == -step)]
        if options:
            way, i, step = rng.choice(options)
    return route


def _start_in_largest_component(lines, at_vertex) -> int:
    """A way of the largest connected part of the network: a walk started on a small
    island (a parking lot's service roads) would go round it for an hour."""
    neighbours: dict[int, set[int]] = {}
    for ways in at_vertex.values():
        for w, _ in ways:
            neighbours.setdefault(w, set()).update(x for x, _ in ways)
    seen: set[int] = set()
    best: list[int] = []
    for start in range(len(lines)):
        if start in seen:
            continue
        component, todo = [], [start]
        seen.add(start)
        while todo:
            w = todo.pop()
            component.append(w)
            for x in neighbours.get(w, ()):
                if x not in seen:
                    seen.add(x)
                    todo.append(x)
        if len(component) > len(best):
            best = component
    return min(best)


def sample_ride(route, seconds: int, speed_ms: float, noise_m: float, seed: int,
                drift_m: float = 0.0):
    """Fixes one second apart along the route, with Gaussian GPS noise independent per fix,
    or (drift_m) drifting error as bench/snapping_eval draws it."""
    rng = np.random.default_rng(seed)
    xy = np.array(route)
    seg = great_circle_m(xy[:-1, 0], xy[:-1, 1], xy[1:, 0], xy[1:, 1])
    cum = np.concatenate([[0], np.cumsum(seg)])
    s = np.arange(seconds) * speed_ms
    lon = np.interp(s, cum, xy[:, 0])
    lat = np.interp(s, cum, xy[:, 1])
    if drift_m > 0:
        from snapping_eval import DRIFT_TAU_S

        from tests.mapmatch_helpers import drifting_error
        east, north = drifting_error(seconds, drift_m, rng, tau_s=DRIFT_TAU_S).T
    else:
        east, north = rng.normal(0, noise_m, seconds), rng.normal(0, noise_m, seconds)
    lat += north / 110_574
    lon += east / (111_320 * np.cos(np.radians(lat)))
    return lon, lat


def obs_csv(lon, lat, start: datetime, event_every_s: int, seed: int) -> bytes:
    """An OpenBikeSensor format 2 file (GPS time, as the firmware writes it)."""
    rng = random.Random(seed)
    lines = ["OBSDataFormat=2&OBSFirmwareVersion=v0.18.1&DeviceId=bench&DataPerMeasurement=3&"
             "MaximumMeasurementsPerLine=30&OffsetLeft=30&OffsetRight=30&TimeZone=GPS",
             "Date;Time;Millis;Comment;Latitude;Longitude;Altitude;Course;Speed;HDOP;"
             "Satellites;BatteryLevel;Left;Right;Confirmed;Marked;Invalid;InsidePrivacyArea;"
             "Factor;Measurements"]
    for k in range(len(lon)):
        gps = start + timedelta(seconds=k + 18)
        j = min(k, len(lon) - 2)
        course = math.degrees(math.atan2((lon[j + 1] - lon[j]) * math.cos(math.radians(lat[j])),
                                         lat[j + 1] - lat[j])) % 360
        event = k % event_every_s == event_every_s // 2
        left = str(rng.randint(60, 250)) if event or k % 3 == 0 else ""
        lines.append(f"{gps:%d.%m.%Y};{gps:%H:%M:%S};{k * 1000};;{lat[k]:.7f};{lon[k]:.7f};"
                     f"40.0;{course:.1f};18.0;0.9;9;3.9;{left};;{'1' if event else '0'};;0;0;"
                     "58;0")
    return ("\n".join(lines) + "\n").encode()


# --- running ours --------------------------------------------------------------------------

def queue_ride(conn, data_dir: str, content: bytes) -> int:
    sha = rawstore.store_raw(data_dir, content)
    with conn.cursor() as cur:
        cur.execute("INSERT INTO users (issuer, subject, role) VALUES ('bench', 'bench', 'user') "
                    "ON CONFLICT (issuer, subject) DO UPDATE SET role = 'user' RETURNING id")
        user_id = cur.fetchone()[0]
        cur.execute("INSERT INTO rides (user_id, public, original_filename, raw_sha256, "
                    "raw_size, uploaded_via, status, attempts) VALUES (%s, true, 'bench.csv', "
                    "%s, %s, 'api', 'queued', 0) RETURNING id", (user_id, sha, len(content)))
        ride_id = cur.fetchone()[0]
    conn.commit()
    return ride_id


def time_ours(dsn: str, data_dir: str, ride_id: int, repeat: int
              ) -> tuple[float, float, dict]:
    """(median wall seconds, median CPU seconds of this process, the ride's facts)."""
    conn = psycopg2.connect(dsn)
    config = ProcessingConfig(data_dir=data_dir, lease_seconds=120)
    worker = f"{socket.gethostname()}:bench"
    times, cpu = [], []
    for _ in range(repeat):
        with conn.cursor() as cur:
            changes.requeue_rides(cur, [ride_id])
        conn.commit()
        started, cpu_started = time.perf_counter(), time.process_time()
        claim = store.claim_next_ride(conn, worker, 120)
        status = process_claimed(conn, claim, worker, config)
        times.append(time.perf_counter() - started)
        cpu.append(time.process_time() - cpu_started)
        if status != "complete":
            raise SystemExit(f"ride {ride_id} ended {status}")
    with conn.cursor() as cur:
        cur.execute("SELECT points_total, points_valid, points_matched, events_count, length_m "
                    "FROM rides WHERE id = %s", (ride_id,))
        keys = ("points", "valid", "matched", "events", "length_m")
        facts = dict(zip(keys, cur.fetchone(), strict=True))
    conn.close()
    return statistics.median(times), statistics.median(cpu), facts


# --- the peer on the same task ----------------------------------------------------------------

def matching_task(dsn: str, content: bytes):
    """The cleaned fixes and the road rows our processing would load for them."""
    ride = prepare_ride(parse_ride_file(content).points, [])
    conn = psycopg2.connect(dsn)
    with conn.cursor() as cur:
        rows = store.roads_near(cur, ride.search_pieces_wkb(), float(np.mean(ride.lat)),
                                MATCH_RADIUS_M + 10)
    conn.close()
    return ride, rows


def time_peer(ride, rows, repeat: int) -> tuple[float, float, int]:
    """(matching seconds, map building seconds, fixes matched) of the peer."""
    from leuven_peer import build_leuven_map, match_leuven
    network, _ = build_network(rows)  # for its projection: the peer works in the same metres
    ways = ways_from_rows(rows)
    builds, runs = [], []
    for _ in range(repeat):
        lmap = build_leuven_map(ways, network.projection)
        builds.append(lmap.build_seconds)
        runs.append(match_leuven(lmap, ride.lon, ride.lat))
    return (statistics.median(r.seconds for r in runs), statistics.median(builds),
            int((runs[-1].way_id >= 0).sum()))


def load_synthetic_berlin(dsn: str) -> int:
    count = load_synthetic_city_roads(dsn, id_offset=SYNTH_ID_OFFSET)
    conn = psycopg2.connect(dsn)
    conn.autocommit = True
    conn.cursor().execute("VACUUM ANALYZE osm_roads")
    conn.close()
    return count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--peer-repeat", type=int, default=1,
                        help="the peer is slow: one run of each ride by default")
    args = parser.parse_args()

    dsn = fresh_database(os.environ["PORTAL_DATABASE_URL"], "portal_bench_rides")
    redis_url = os.environ.get("PORTAL_REDIS_URL", "redis://127.0.0.1:6379/0")
    data_dir = tempfile.mkdtemp(prefix="bench-rides-")
    import_osm(dsn, OSLO, redis_url, data_dir)
    berlin_roads = load_synthetic_berlin(dsn)

    conn = psycopg2.connect(dsn)
    route = random_route(conn, length_m=3600 * 5.0 + 500, seed=7)
    lon, lat = sample_ride(route, seconds=3600, speed_ms=5.0, noise_m=4.0, seed=7)
    hour = obs_csv(lon, lat, datetime(2024, 5, 6, 7, 0, tzinfo=UTC), event_every_s=60, seed=7)
    lon, lat = sample_ride(route, seconds=3600, speed_ms=5.0, noise_m=0.0, seed=7, drift_m=6.0)
    drifting = obs_csv(lon, lat, datetime(2024, 5, 6, 9, 0, tzinfo=UTC), event_every_s=60,
                       seed=7)
    rides = {"one_hour_oslo": hour, "berlin": BERLIN.read_bytes()}
    ids = {name: queue_ride(conn, data_dir, content) for name, content in rides.items()}
    drifting_id = queue_ride(conn, data_dir, drifting)
    conn.close()

    results = {}
    for name, content in rides.items():
        ours_s, ours_cpu_s, facts = time_ours(dsn, data_dir, ids[name], args.repeat)
        ride, rows = matching_task(dsn, content)
        peer_s, peer_build_s, peer_matched = time_peer(ride, rows, args.peer_repeat)
        n = len(ride.t)
        # the same points for both: the cleaned fixes (ours also parsed the few dropped ones)
        results[name] = {"ours_s": ours_s, "ours_cpu_s": ours_cpu_s,
                         "ours_points_per_s": n / ours_s,
                         "peer_s": peer_s + peer_build_s,
                         "peer_points_per_s": n / (peer_s + peer_build_s),
                         "peer_matched": peer_matched, "roads_loaded": len(rows), **facts}

    drift_s, drift_cpu_s, drift_facts = time_ours(dsn, data_dir, drifting_id, args.repeat)

    print(f"rides: one hour in Oslo (synthetic route over the real network), the Berlin ride "
          f"over the synthetic Berlin city ({berlin_roads} roads); ours: median of "
          f"{args.repeat}, end to end with database writes; peer: leuvenmapmatching, "
          f"map building + matching only")
    print(f"{'ride':16} {'points':>6} {'matched':>7} {'events':>6} {'roads':>6} "
          f"{'ours s':>7} {'pts/s':>8} {'peer s':>7} {'pts/s':>7} {'ratio':>6}")
    for name, r in results.items():
        print(f"{name:16} {r['points']:6d} {r['matched']:7d} {r['events']:6d} "
              f"{r['roads_loaded']:6d} {r['ours_s']:7.3f} {r['ours_points_per_s']:8.0f} "
              f"{r['peer_s']:7.2f} {r['peer_points_per_s']:7.0f} "
              f"{r['ours_points_per_s'] / r['peer_points_per_s']:6.1f}")
    hour_r = results["one_hour_oslo"]
    print(f"one hour in Oslo with 6 m drifting error (drift passes on): {drift_s:.3f} s wall, "
          f"{drift_cpu_s:.3f} s CPU, end to end ({drift_facts['matched']} of "
          f"{drift_facts['valid']} fixes matched); the ride above {hour_r['ours_s']:.3f} s wall, "
          f"{hour_r['ours_cpu_s']:.3f} s CPU")
    from snapping_eval import evaluate_all
    right = evaluate_all()
    real, check, tuning = right["real_ride"], right["drift_check"], right["drift_tuning"]
    print(f"real ride (Kubicka et al., {real['fixes']} fixes, {real['route_km']} km true "
          f"route): length share on the true route ours {real['ours']['length_share']:.4f}, "
          f"nearest way {real['baseline_nearest_way']['length_share']:.4f} (matched ways off "
          f"the route: ours {real['ours']['matched_off_route_share']:.4f}, nearest way "
          f"{real['baseline_nearest_way']['matched_off_route_share']:.4f}; fixes on the "
          f"route: ours {real['ours']['fixes_on_route_share']:.4f}, nearest way "
          f"{real['baseline_nearest_way']['fixes_on_route_share']:.4f})")
    for name, case in (("check", check), ("tuning", tuning)):
        for level in ("drift_3m", "drift_6m"):
            c = case[level]
            print(f"drifting GPS error, {name} set ({case['extract']}, seeds {case['seeds']}), "
                  f"{level}: true way ours {c['true_way_share']:.4f} (without the "
                  f"measured speed {c['true_way_share_without_speed']:.4f}), nearest way "
                  f"{c['baseline_nearest_way']:.4f}, ceiling of snapping by projection "
                  f"{c['along_error_ceiling']:.4f} ({c['fixes']} fixes)")
    timing = right["drifting_hour_matching"]
    print(f"matching alone, one hour with 6 m drifting error: {timing['drift_passes_s']:.3f} s "
          f"({timing['drift_passes_cpu_s']:.3f} s CPU) with the drift passes, "
          f"{timing['one_pass_s']:.3f} s ({timing['one_pass_cpu_s']:.3f} s CPU) with one pass")
    print(json.dumps({
        "one_hour_drifting_matching_seconds": timing,
        "true_way_share": {k: check[k]["true_way_share"] for k in ("drift_3m", "drift_6m")},
        "true_way_share_without_speed": {k: check[k]["true_way_share_without_speed"]
                                         for k in ("drift_3m", "drift_6m")},
        "true_way_share_tuning_set_without_speed": {
            k: tuning[k]["true_way_share_without_speed"] for k in ("drift_3m", "drift_6m")},
        "true_way_share_baseline": {k: check[k]["baseline_nearest_way"]
                                    for k in ("drift_3m", "drift_6m")},
        "true_way_share_tuning_set": {k: tuning[k]["true_way_share"]
                                      for k in ("drift_3m", "drift_6m")},
        "true_way_share_along_error_ceiling": {k: check[k]["along_error_ceiling"]
                                               for k in ("drift_3m", "drift_6m")},
        "true_way_share_tuning_set_along_error_ceiling": {
            k: tuning[k]["along_error_ceiling"] for k in ("drift_3m", "drift_6m")},
        "real_track_length_share": real["ours"]["length_share"],
        "real_track_length_share_baseline": real["baseline_nearest_way"]["length_share"],
        "one_hour_ride_seconds": round(hour_r["ours_s"], 3),
        "one_hour_ride_cpu_seconds": round(hour_r["ours_cpu_s"], 3),
        "one_hour_drifting_ride_seconds": round(drift_s, 3),
        "one_hour_drifting_ride_cpu_seconds": round(drift_cpu_s, 3),
        "points_per_s": round(hour_r["ours_points_per_s"]),
        "peer": "leuvenmapmatching 1.1.4 DistanceMatcher",
        "peer_points_per_s": round(hour_r["peer_points_per_s"], 1),
        "ratio": round(hour_r["ours_points_per_s"] / hour_r["peer_points_per_s"], 1),
        "berlin_seconds": round(results["berlin"]["ours_s"], 3),
        "berlin_points_per_s": round(results["berlin"]["ours_points_per_s"]),
        "berlin_peer_points_per_s": round(results["berlin"]["peer_points_per_s"], 1),
        "berlin_ratio": round(results["berlin"]["ours_points_per_s"]
                              / results["berlin"]["peer_points_per_s"], 1),
        "one_hour_matched_share": round(hour_r["matched"] / hour_r["valid"], 3),
        "repeat": args.repeat}))


if __name__ == "__main__":
    main()
