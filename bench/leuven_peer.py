"""bench/leuven_peer.py: leuvenmapmatching's DistanceMatcher on the same task as our matcher.

The peer gets the same ways and fixes: an InMemMap in the same local metric projection as
our RoadNetwork (use_latlon=False, so distances are plain Euclidean metres, as ours), nodes
= vertices with identical coordinates (the same shared-vertex topology), one edge per way
segment, both ways round (ours allows contraflow too, at a penalty leuven cannot express).
Parameters as ours: max_dist 40 m (our radius), obs_noise 10 m, no non-emitting states,
lattice width 16 (ours keeps up to 8 candidates x 2 directions per fix; without a width
limit leuven is 4x slower and no more accurate).

leuven's map finds the start candidates by scanning every node when rtree is not
installed (it is not); the map below answers that bounding-box query from a shapely STRtree
instead, the same semantics, so the peer is not timed on a linear scan we could avoid.
When leuven's lattice dies (no candidate within max_dist, or no connected edge in reach)
matching restarts at the next fix, as ours does.

Run as a script for a comparison on a synthetic 1 h ride over the Oslo demo extract:
    .venv/bin/python bench/leuven_peer.py [--points 3600] [--seed 1] [--noise 6]
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import shapely
from leuvenmapmatching.map.inmem import InMemMap
from leuvenmapmatching.matcher.distance import DistanceMatcher

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from matching_and_import_db.geodesy import LocalProjection  # noqa: E402


class _IndexedMap(InMemMap):
    """InMemMap whose bounding-box lookup of nodes uses an STRtree (leuven's rtree stand-in)."""

    def build_index(self) -> None:
        self._keys = np.fromiter(self.graph.keys(), dtype=np.int64, count=len(self.graph))
        yx = np.array([self.graph[k][0] for k in self._keys.tolist()], dtype=np.float64)
        self._tree = shapely.STRtree(shapely.points(yx[:, 1], yx[:, 0]))

    def _items_in_bb(self, bb):
        y_min, x_min, y_max, x_max = bb
        hits = self._tree.query(shapely.box(x_min, y_min, x_max, y_max))
        for key in self._keys[hits].tolist():
            yield key, self.graph[key]


@dataclass
class LeuvenMap:
    map: InMemMap
    edge_way: dict[tuple[int, int], int]  # (node, node) -> OSM way id
    projection: LocalProjection
    build_seconds: float


@dataclass
class LeuvenMatch:
    way_id: np.ndarray  # int64 per fix, -1 where unmatched
    seconds: float  # matching time (map building excluded)
    restarts: int


def build_leuven_map(ways, projection: LocalProjection) -> LeuvenMap:
    """InMemMap over (osm_id, [(lon, lat), ...], oneway, highway) ways, in projection's
    metres (y, x order, as leuven wants)."""
    started = time.perf_counter()
    lmap = _IndexedMap("peer", use_latlon=False, use_rtree=False, index_edges=False)
    node_of: dict[tuple[float, float], int] = {}
    edge_way: dict[tuple[int, int], int] = {}
    for osm_id, coords, *_ in ways:
        lonlat = np.asarray(coords, dtype=np.float64).reshape(-1, 2)
        x, y = projection.to_xy(lonlat[:, 0], lonlat[:, 1])
        nodes = []
        for key, xi, yi in zip(map(tuple, lonlat.tolist()), x.tolist(), y.tolist(),
                               strict=True):
            node = node_of.get(key)
            if node is None:
                node = node_of[key] = len(node_of)
                lmap.add_node(node, (yi, xi))
            if not nodes or nodes[-1] != node:
                nodes.append(node)
        for a, b in zip(nodes[:-1], nodes[1:], strict=True):
            lmap.add_edge(a, b)
            lmap.add_edge(b, a)
            edge_way[(a, b)] = edge_way[(b, a)] = int(osm_id)
    lmap.build_index()
    return LeuvenMap(lmap, edge_way, projection, time.perf_counter() - started)


def match_leuven(lmap: LeuvenMap, lon, lat, *, max_dist: float = 40.0,
                 obs_noise: float = 10.0, max_lattice_width: int | None = 16) -> LeuvenMatch:
    """Matched way per fix with DistanceMatcher, restarting where its lattice dies."""
    x, y = lmap.projection.to_xy(lon, lat)
    path = list(zip(y.tolist(), x.tolist(), strict=True))
    n = len(path)
    way_id = np.full(n, -1, dtype=np.int64)
    started = time.perf_counter()
    start, restarts = 0, 0
    while start < n:
        matcher = DistanceMatcher(lmap.map, max_dist=max_dist, obs_noise=obs_noise,
                                  non_emitting_states=False,
                                  max_lattice_width=max_lattice_width)
        matcher.match(path[start:])
        best = matcher.lattice_best or []
        for m in best:
            way_id[start + m.obs] = lmap.edge_way.get((m.edge_m.l1, m.edge_m.l2), -1)
        if matcher.early_stop_idx is None and best:
            break
        # leuven returns the path up to the fix before the one where it stopped
        done = (best[-1].obs + 1) if best else 0
        start += max(done, 1)
        restarts += 1
    return LeuvenMatch(way_id, time.perf_counter() - started, restarts)


def main() -> None:
    from matching_and_import_db.rides.mapmatch import match_ride
    from matching_and_import_db.rides.roadnet import RoadNetwork
    from tests.mapmatch_helpers import OSLO_PBF, random_route, read_ways, ride_along

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=3600)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--noise", type=float, default=6.0)
    args = parser.parse_args()
    # leuven warns of a linear search on every start: its check looks for rtree, not for
    # our index
    logging.getLogger("be.kuleuven.cs.dtai.mapmatching").setLevel(logging.ERROR)

    ways = read_ways(OSLO_PBF)
    t0 = time.perf_counter()
    net = RoadNetwork.from_ways(ways.ways)
    ours_build = time.perf_counter() - t0
    rideable = frozenset({"residential", "tertiary", "secondary", "primary", "unclassified",
                          "cycleway", "living_street", "service"})
    rng = np.random.default_rng(args.seed)
    legs = random_route(net, rng, args.points * 5.0 + 500.0, rideable)
    ride = ride_along(legs, net.projection, rng, speed=5.0, sigma=args.noise)
    lon, lat, t = (a[:args.points] for a in (ride.lon, ride.lat, ride.t))
    truth = ride.truth_way[:args.points]

    times = []
    for _ in range(5):
        t0 = time.perf_counter()
        ours = match_ride(net, lon, lat, t)
        times.append(time.perf_counter() - t0)
    peer_map = build_leuven_map(ways.ways, net.projection)
    peer = match_leuven(peer_map, lon, lat)
    print(f"{len(lon)} fixes, {len(ways.ways)} ways, noise {args.noise} m")
    print(f"ours:   build {ours_build:.3f} s, match {min(times):.3f} s (best of 5), "
          f"way right {np.mean(ours.way_id == truth):.3f}")
    print(f"leuven: build {peer_map.build_seconds:.3f} s, match {peer.seconds:.3f} s, "
          f"way right {np.mean(peer.way_id == truth):.3f}, restarts {peer.restarts}")


if __name__ == "__main__":
    main()
