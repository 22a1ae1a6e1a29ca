"""Where are the drifting-error rides' wrong fixes? A diagnostic over the tuning set
(bench/snapping_eval's demo extract and seeds), or over the check extract with seeds other
than the check set's (--extract check --seeds 1-32): never on the check set itself.

Each wrong fix (scored as bench/snapping_eval scores: a fix whose true position is within
a metre of a junction node counts as right on any way through that node) is put in one kind:

- wait: the rider stands still (its true position is the previous fix's);
- junction: the matched way meets the true way at a node within JUNCTION_M of the fix's
  true position; "route" when the ride itself rides the matched way just before or after
  (the change of way is matched early or late: a way boundary, a turn), "crossing" when
  not (a street the ride crosses); with the distance of the true position from the node;
- parallel: any other way (a sidewalk, a bus lane, a street beside), by its highway class.

Beside the kinds, "model_prefers_matched" counts the wrong fixes whose run (a maximal run of
wrong fixes) the error model itself does not hold against the matcher: under the drift the
rides are drawn with (per axis AR(1), DRIFT_TAU_S, the ride's sigma), the fixes' errors if
the rider were where the matcher put them (the true errors less the snaps' offset across
the true way) are at least as likely, over the run and MODEL_MARGIN_S either side, as the
true errors. Those no matcher modelling the error as it is drawn would get right; the rest
it could.

Run: .venv/bin/python bench/snapping_errors.py [--sigma 6] [--extract check --seeds 1-32]
"""

from __future__ import annotations

import argparse
import collections
import json
import sys
from pathlib import Path

import numpy as np
from scipy.spatial import cKDTree

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from snapping_eval import (  # noqa: E402
    CHECK_EXTRACT,
    CHECK_SEEDS,
    DRIFT_TAU_S,
    TUNING_EXTRACT,
    TUNING_SEEDS,
    drift_ride,
    fair_right,
    road_rows,
    ways_at_true_nodes,
)

from matching_and_import_db.rides.mapmatch import match_ride  # noqa: E402
from matching_and_import_db.rides.processing import MATCH_RADIUS_M, build_network  # noqa: E402

JUNCTION_M = 15.0
MODEL_MARGIN_S = 30  # fixes either side of a wrong run that model_prefers_matched looks at
ROUTE_NEAR = 30  # fixes either side: the ride's ways just before and after


def classify(net, ride, matched: np.ndarray, right: np.ndarray) -> collections.Counter:
    kinds: collections.Counter = collections.Counter()
    index_of = {int(w): k for k, w in enumerate(net.way_ids.tolist())}
    near_nodes = ways_at_true_nodes(net, ride.true_x, ride.true_y, JUNCTION_M)
    tree = cKDTree(np.stack([net.node_x, net.node_y], axis=1))
    nodes_near = tree.query_ball_point(np.stack([ride.true_x, ride.true_y], axis=1), JUNCTION_M)
    waiting = np.zeros(len(matched), dtype=bool)
    waiting[1:] = (ride.true_x[1:] == ride.true_x[:-1]) & (ride.true_y[1:] == ride.true_y[:-1])
    for i in np.flatnonzero(~right).tolist():
        m = int(matched[i])
        if m < 0:
            kinds["unmatched"] += 1
            continue
        truth = index_of[int(ride.truth_way[i])]
        mi = index_of[m]
        meets = any(truth in ways and mi in ways for ways in near_nodes[i])
        if meets:
            lo, hi = max(0, i - ROUTE_NEAR), i + ROUTE_NEAR + 1
            on_route = bool(np.any(ride.truth_way[lo:hi] == m))
            d = float(np.min(np.hypot(net.node_x[nodes_near[i]] - ride.true_x[i],
                                      net.node_y[nodes_near[i]] - ride.true_y[i])))
            band = "<3m" if d < 3 else "3-8m" if d < 8 else "8-15m"
            where = f"junction {'route' if on_route else 'crossing'} {band}"
        else:
            where = f"parallel:{net.way_highway[mi]}"
        kinds[("wait " if waiting[i] else "") + where] += 1
    return kinds


def _drift_log_likelihood(e: np.ndarray, sigma: float) -> float:
    """Log-likelihood (up to a constant) of an (n, 2) error series under the drift the
    rides are drawn with: per axis AR(1), time constant DRIFT_TAU_S, 1 s apart."""
    phi = np.exp(-1.0 / DRIFT_TAU_S)
    innovation = e[1:] - phi * e[:-1]
    return -0.5 * (float(np.sum(e[0] ** 2)) / sigma ** 2
                   + float(np.sum(innovation ** 2)) / (sigma ** 2 * (1.0 - phi * phi)))


def model_prefers_matched(net, ride, r, right: np.ndarray, sigma: float) -> int:
    """How many wrong fixes lie in runs where the matched positions explain the fixes at
    least as well as the true ones under the drift model (see the module docstring)."""
    x, y = net.projection.to_xy(ride.lon, ride.lat)
    sx, sy = net.projection.to_xy(r.lon, r.lat)
    e = np.stack([x - ride.true_x, y - ride.true_y], axis=1)
    hx, hy = np.gradient(ride.true_x), np.gradient(ride.true_y)
    moving = np.flatnonzero(np.hypot(hx, hy) > 1e-6)
    count, n, i = 0, len(right), 0
    while i < n:
        if right[i]:
            i += 1
            continue
        j = i
        while j < n and not right[j]:
            j += 1
        alt = e.copy()
        for k in range(i, j):
            if not np.isfinite(sx[k]):
                continue
            d = np.array([sx[k] - ride.true_x[k], sy[k] - ride.true_y[k]])
            # across the true way where the rider last moved (a wait has no heading)
            before = moving[moving <= k]
            if not len(before):
                alt[k] = e[k] - d
                continue
            last = before[-1]
            across = np.array([-hy[last], hx[last]]) / np.hypot(hx[last], hy[last])
            alt[k] = e[k] - (d @ across) * across
        lo, hi = max(0, i - MODEL_MARGIN_S), min(n, j + MODEL_MARGIN_S)
        if _drift_log_likelihood(alt[lo:hi], sigma) >= _drift_log_likelihood(e[lo:hi], sigma):
            count += j - i
        i = j
    return count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sigma", type=float, action="append")
    parser.add_argument("--extract", choices=["tuning", "check"], default="tuning")
    parser.add_argument("--seeds", help="first-last (default: the tuning seeds)")
    args = parser.parse_args()
    seeds = TUNING_SEEDS
    if args.seeds:
        first, last = (int(v) for v in args.seeds.split("-"))
        seeds = range(first, last + 1)
    if args.extract == "check" and set(seeds) & set(CHECK_SEEDS):
        parser.error(f"seeds {CHECK_SEEDS.start}-{CHECK_SEEDS.stop - 1} of the check extract "
                     "are the check set: choose others")
    net, _ = build_network(road_rows(CHECK_EXTRACT if args.extract == "check"
                                     else TUNING_EXTRACT))
    out = {}
    for sigma in args.sigma or [3.0, 6.0]:
        kinds: collections.Counter = collections.Counter()
        per_seed = {}
        total = preferred = 0
        for seed in seeds:
            ride = drift_ride(net, seed, sigma)
            r = match_ride(net, ride.lon, ride.lat, ride.t, speed=ride.speed,
                           radius=MATCH_RADIUS_M)
            right = fair_right(net, ride, r.way_id)
            c = classify(net, ride, r.way_id, right)
            preferred += model_prefers_matched(net, ride, r, right, sigma)
            per_seed[seed] = int((~right).sum())
            kinds += c
            total += len(ride.t)
        out[f"drift_{sigma:g}m"] = {"fixes": total, "wrong": sum(kinds.values()),
                                    "model_prefers_matched": preferred,
                                    "per_seed": per_seed, "kinds": dict(kinds.most_common())}
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
