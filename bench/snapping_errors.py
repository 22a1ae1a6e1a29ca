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
        total = 0
        for seed in seeds:
            ride = drift_ride(net, seed, sigma)
            r = match_ride(net, ride.lon, ride.lat, ride.t, speed=ride.speed,
                           radius=MATCH_RADIUS_M)
            right = fair_right(net, ride, r.way_id)
            c = classify(net, ride, r.way_id, right)
            per_seed[seed] = int((~right).sum())
            kinds += c
            total += len(ride.t)
        out[f"drift_{sigma:g}m"] = {"fixes": total, "wrong": sum(kinds.values()),
                                    "per_seed": per_seed, "kinds": dict(kinds.most_common())}
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
