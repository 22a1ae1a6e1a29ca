"""The road network a ride is matched against: OSM ways in a local metric projection, a
segment index for the candidate search, and a junction graph for route distances.

Ways carry no node ids (the database only has their geometry), so the topology comes from
coordinates: ways are connected where they share a vertex with identical coordinates, as
OSM ways meeting at a node do, whether that node is at a way's end or in its middle.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import shapely
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from matching_and_import_db.geodesy import LocalProjection
from matching_and_import_db.rides.roadclass import bicycle_oneway, ride_cost

# OSM oneway values, as mappers use them
ONEWAY_FORWARD = frozenset({"yes", "1", "true"})
ONEWAY_BACKWARD = frozenset({"-1", "reverse"})
# route_lengths: cells of the distance rows one Dijkstra call may return (8 bytes each)
ROUTE_ROWS_CELLS = 1 << 22
# two positions on a way closer than this are the same place (float noise of along sums)
SAME_PLACE_M = 1e-3

# (osm_id, [(lon, lat), ...], oneway, highway) or with the way's access tags as a fifth
class Way(NamedTuple):
    """One way as the network is built from it (rides.processing.ways_from_rows)."""

    osm_id: int
    coords: Sequence  # (lon, lat) pairs, or an (n, 2) array
    oneway: str | None
    highway: str
    access: dict | None = None  # the access tags (bicycle=no, …)


def oneway_sign(value: str | None) -> int:
    """+1 if traffic may only go in the way's digitised direction, -1 only against it, else 0."""
    if value is None:
        return 0
    value = value.strip().lower()
    if value in ONEWAY_FORWARD:
        return 1
    if value in ONEWAY_BACKWARD:
        return -1
    return 0


@dataclass(slots=True)
class NearbySegments:
    """Every (point, segment) pair within the search radius, with the point's projection."""

    point: np.ndarray  # index of the point
    segment: np.ndarray  # index of the segment
    distance: np.ndarray  # metres from the point to its projection
    along: np.ndarray  # metres from the way's first vertex to the projection
    x: np.ndarray  # the projection, local metres
    y: np.ndarray


class RoadNetwork:
    """Ways split into segments (numpy arrays) and into pieces between junctions (graph edges).

    A junction ("node") is a vertex shared by two or more ways (or visited twice by one way)
    or a way's end. A piece is the part of a way between two consecutive nodes on it.
    """

    def __init__(self) -> None:  # use from_ways()
        self.projection: LocalProjection
        self.way_ids: np.ndarray  # OSM id per way index
        self.way_oneway: np.ndarray  # oneway_sign per way index, for bicycles
        self.way_highway: list[str]
        self.way_cost: np.ndarray  # roadclass.ride_cost per way index, nats per fix
        self.way_length: np.ndarray
        # segments: vertex k -> k+1 of a way
        self.seg_way: np.ndarray
        self.seg_x0: np.ndarray
        self.seg_y0: np.ndarray
        self.seg_dx: np.ndarray
        self.seg_dy: np.ndarray
        self.seg_length: np.ndarray
        self.seg_along0: np.ndarray  # along-position of the segment's first vertex
        self.seg_piece: np.ndarray
        self.seg_next_same_way: np.ndarray  # bool: the next segment continues this way
        self.seg_prev_same_way: np.ndarray
        # pieces: graph edges between nodes
        self.piece_way: np.ndarray
        self.piece_node_a: np.ndarray  # node at the piece's start (lower along)
        self.piece_node_b: np.ndarray
        self.piece_along_a: np.ndarray
        self.piece_along_b: np.ndarray
        self.node_x: np.ndarray
        self.node_y: np.ndarray
        self._tree: shapely.STRtree
        self._node_way_key: np.ndarray  # node * n_ways + way, sorted
        self._node_way_along: np.ndarray
        # the junction graph as a sparse matrix (both directions of every piece; parallel
        # pieces between two nodes stay apart, csgraph takes the shortest)
        self._graph: csr_matrix

    # --- building -------------------------------------------------------------------------

    @classmethod
    def from_ways(cls, ways: Iterable[Way],
                  projection: LocalProjection | None = None) -> RoadNetwork:
        """Build from (osm_id, [(lon, lat), ...], oneway, highway[, access tags]) tuples."""
        ids, coord_lists, oneways, highways, costs = [], [], [], [], []
        for osm_id, coords, oneway, highway, *access in ways:
            tags = access[0] if access else None
            ids.append(int(osm_id))
            coord_lists.append(coords)
            oneways.append(oneway_sign(bicycle_oneway(oneway, tags)))
            highways.append(highway)
            costs.append(ride_cost(highway, tags))
        counts = np.fromiter((len(c) for c in coord_lists), dtype=np.int64, count=len(ids))
        if counts.sum() == 0:
            lonlat = np.zeros((0, 2))
        else:
            lonlat = np.array(list(itertools.chain.from_iterable(coord_lists)),
                              dtype=np.float64).reshape(-1, 2)
        net = cls()
        net.way_ids = np.asarray(ids, dtype=np.int64)
        net.way_oneway = np.asarray(oneways, dtype=np.int8)
        net.way_highway = highways
        net.way_cost = np.asarray(costs, dtype=np.float64)
        way_of_vertex = np.repeat(np.arange(len(ids)), counts)
        if projection is None:
            if len(lonlat):
                lo = lonlat.min(axis=0)
                hi = lonlat.max(axis=0)
                centre = (lo + hi) / 2.0
            else:
                centre = (0.0, 0.0)
            projection = LocalProjection.around(float(centre[0]), float(centre[1]))
        net.projection = projection
        net._build(lonlat, way_of_vertex)
        return net

    def _build(self, lonlat: np.ndarray, way: np.ndarray) -> None:
        # a vertex repeated in a row is no segment; drop it
        repeat = np.zeros(len(way), dtype=bool)
        repeat[1:] = (way[1:] == way[:-1]) & np.all(lonlat[1:] == lonlat[:-1], axis=1)
        lonlat, way = lonlat[~repeat], way[~repeat]
        # ways left with one vertex have no segment and join nothing
        n_per_way = np.bincount(way, minlength=len(self.way_ids))
        keep = n_per_way[way] >= 2
        lonlat, way = lonlat[keep], way[keep]
        n = len(way)
        x, y = self.projection.to_xy(lonlat[:, 0], lonlat[:, 1])

        first = np.ones(n, dtype=bool)
        first[1:] = way[1:] != way[:-1]
        last = np.ones(n, dtype=bool)
        last[:-1] = way[1:] != way[:-1]

        step = np.zeros(n)
        step[1:] = np.hypot(np.diff(x), np.diff(y))
        step[first] = 0.0
        cum = np.cumsum(step)
        way_start_cum = cum[np.flatnonzero(first)]
        first_index_of_way = np.cumsum(first) - 1  # position of the vertex's way among ways
        along = cum - way_start_cum[first_index_of_way]
        self.way_length = np.zeros(len(self.way_ids))
        self.way_length[way[last]] = along[last]

        # shared vertices: identical coordinates, found by sorting them once
        key = lonlat[:, 0] + 1j * lonlat[:, 1]
        _, key_id, key_count = np.unique(key, return_inverse=True, return_counts=True)
        is_node = (key_count[key_id] >= 2) | first | last
        node_keys, node_of_node_vertex = np.unique(key_id[is_node], return_inverse=True)
        node_vertices = np.flatnonzero(is_node)
        # all vertices of a node have the same coordinates: any one of them will do
        vertex_of_node = np.zeros(len(node_keys), dtype=np.int64)
        vertex_of_node[node_of_node_vertex] = node_vertices
        self.node_x = x[vertex_of_node]
        self.node_y = y[vertex_of_node]

        # pieces between consecutive nodes of the same way
        starts = np.flatnonzero(way[node_vertices[1:]] == way[node_vertices[:-1]])
        va, vb = node_vertices[starts], node_vertices[starts + 1]
        self.piece_way = way[va]
        self.piece_node_a = node_of_node_vertex[starts]
        self.piece_node_b = node_of_node_vertex[starts + 1]
        self.piece_along_a = along[va]
        self.piece_along_b = along[vb]
        # where each way passes each of its nodes: (node, way) -> along, for along_at_node
        key = np.concatenate([self.piece_node_a, self.piece_node_b]) * len(self.way_ids) \
            + np.concatenate([self.piece_way, self.piece_way])
        key_along = np.concatenate([self.piece_along_a, self.piece_along_b])
        self._node_way_key, first_at = np.unique(key, return_index=True)
        self._node_way_along = key_along[first_at]
        piece_of_node_slot = np.full(len(node_vertices), -1, dtype=np.int64)
        piece_of_node_slot[starts] = np.arange(len(starts))

        # segments: every vertex that is not its way's last starts one
        seg_v = np.flatnonzero(~last)
        self.seg_way = way[seg_v]
        self.seg_x0 = x[seg_v]
        self.seg_y0 = y[seg_v]
        self.seg_dx = x[seg_v + 1] - x[seg_v]
        self.seg_dy = y[seg_v + 1] - y[seg_v]
        self.seg_length = step[seg_v + 1]
        self.seg_along0 = along[seg_v]
        slot = np.searchsorted(node_vertices, seg_v, side="right") - 1
        self.seg_piece = piece_of_node_slot[slot]
        self.seg_next_same_way = ~last[seg_v + 1]
        self.seg_prev_same_way = ~first[seg_v]

        segs = np.stack([np.stack([self.seg_x0, self.seg_y0], axis=1),
                         np.stack([self.seg_x0 + self.seg_dx, self.seg_y0 + self.seg_dy],
                                  axis=1)], axis=1)
        self._tree = shapely.STRtree(shapely.linestrings(segs))
        self._build_adjacency()

    def _build_adjacency(self) -> None:
        length = self.piece_along_b - self.piece_along_a
        src = np.concatenate([self.piece_node_a, self.piece_node_b])
        dst = np.concatenate([self.piece_node_b, self.piece_node_a])
        both = np.concatenate([length, length])
        order = np.argsort(src, kind="stable")
        start = np.searchsorted(src[order], np.arange(len(self.node_x) + 1))
        n = len(self.node_x)
        # built from its three arrays, so that repeated entries are not summed (csgraph
        # takes the least of them) and zero-length pieces stay edges
        self._graph = csr_matrix((both[order].astype(np.float64),
                                  dst[order].astype(np.int32), start.astype(np.int32)),
                                 shape=(n, n))

    # --- queries --------------------------------------------------------------------------

    @property
    def n_segments(self) -> int:
        return len(self.seg_way)

    @property
    def n_nodes(self) -> int:
        return len(self.node_x)

    def along_at_node(self, node: int, way: int) -> float | None:
        """Where way (an index) passes node, metres from its first vertex; None if it
        does not (a way through a node twice: its first pass)."""
        key = node * len(self.way_ids) + way
        k = int(np.searchsorted(self._node_way_key, key))
        if k < len(self._node_way_key) and self._node_way_key[k] == key:
            return float(self._node_way_along[k])
        return None

    def segments_within(self, x: np.ndarray, y: np.ndarray,
                        radius: float) -> tuple[np.ndarray, np.ndarray]:
        """(point index, segment index) of every segment within radius of each point."""
        finite = np.flatnonzero(np.isfinite(x) & np.isfinite(y))
        points = shapely.points(x[finite], y[finite])
        hit_point, seg = self._tree.query(points, predicate="dwithin", distance=radius)
        return finite[hit_point], seg

    def nearby_segments(self, x: np.ndarray, y: np.ndarray, radius: float,
                        among: tuple[np.ndarray, np.ndarray] | None = None) -> NearbySegments:
        """All segments within radius of each point, each with the point's projection on it.

        A point near a polyline's vertex projects onto both segments meeting there; only
        projections that are local minima of the distance along the way are kept, so each
        way contributes one candidate per place it passes by (two for a hairpin).

        among: (point, segment) pairs from segments_within to look at instead of searching
        the tree: those found near the same points before they were moved a little (the
        matcher's drift passes), which saves the search.
        """
        if among is None:
            pt, seg = self.segments_within(x, y, radius)
        else:
            pt, seg = among
        px, py = x[pt], y[pt]
        dx, dy = self.seg_dx[seg], self.seg_dy[seg]
        length = self.seg_length[seg]
        t = ((px - self.seg_x0[seg]) * dx + (py - self.seg_y0[seg]) * dy) / (length * length)
        t = np.clip(t, 0.0, 1.0)
        # at the segment's start: the previous segment of the way reports this vertex
        keep = (t > 0.0) | ~self.seg_prev_same_way[seg]
        # at its end: a local minimum only if the next segment turns away from the point
        at_end = keep & (t >= 1.0) & self.seg_next_same_way[seg]
        nxt = seg[at_end] + 1
        ex = self.seg_x0[nxt]
        ey = self.seg_y0[nxt]
        turns_away = (px[at_end] - ex) * self.seg_dx[nxt] + (py[at_end] - ey) * self.seg_dy[nxt]
        keep[np.flatnonzero(at_end)[turns_away > 0.0]] = False
        pt, seg, t = pt[keep], seg[keep], t[keep]
        qx = self.seg_x0[seg] + t * self.seg_dx[seg]
        qy = self.seg_y0[seg] + t * self.seg_dy[seg]
        distance = np.hypot(x[pt] - qx, y[pt] - qy)
        if among is not None:
            inside = distance <= radius
            pt, seg, t, qx, qy, distance = (a[inside] for a in (pt, seg, t, qx, qy, distance))
        return NearbySegments(
            point=pt, segment=seg, distance=distance,
            along=self.seg_along0[seg] + t * self.seg_length[seg], x=qx, y=qy)

    def route_lengths(self, src: np.ndarray, dst: np.ndarray, limit: np.ndarray) -> np.ndarray:
        """Shortest path length over the junction graph from src[i] to dst[i], or inf when
        longer than limit[i]. Ways are walked in both directions (cyclists ride contraflow;
        the matcher penalises that on the matched ways, not here).

        Hundreds of thousands of pairs share a few thousand sources: one bounded Dijkstra
        per source (scipy's, in C) reaches all its targets at once. Its result is a dense
        row per source, so it runs on the part of the graph a route within the limit can
        reach (nodes no farther from the sources' bounding box than the longest limit: a
        path is never shorter than the straight line), with as many sources at a time as
        keep those rows within ROUTE_ROWS_CELLS. (Python's heapq Dijkstra, the search
        before this one, took three times as long for a one-hour ride.)"""
        out = np.full(len(src), np.inf)
        if len(src) == 0:
            return out
        reach = float(np.max(limit))
        sources = np.unique(src)
        x, y = self.node_x[sources], self.node_y[sources]
        near = np.flatnonzero((self.node_x >= x.min() - reach) & (self.node_x <= x.max() + reach)
                              & (self.node_y >= y.min() - reach)
                              & (self.node_y <= y.max() + reach))
        local = np.full(self.n_nodes, -1, dtype=np.int64)
        local[near] = np.arange(len(near))
        graph = self._graph[near][:, near]
        row = np.searchsorted(sources, src)
        column = local[dst]  # -1: too far from every source to be reached
        per_call = max(1, ROUTE_ROWS_CELLS // max(len(near), 1))
        for first in range(0, len(sources), per_call):
            last = min(first + per_call, len(sources))
            pick = np.flatnonzero((row >= first) & (row < last) & (column >= 0))
            lengths = dijkstra(graph, directed=True, indices=local[sources[first:last]],
                               limit=reach)
            out[pick] = lengths[row[pick] - first, column[pick]]
        out[out > limit] = np.inf
        return out
