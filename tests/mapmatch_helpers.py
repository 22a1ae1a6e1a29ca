"""Helpers for the map-matching tests: OSM ways from an extract, hand-made street grids, and
synthetic rides (a route ridden at constant speed, sampled with Gaussian GPS noise)."""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import shapely

from matching_and_import_db.geodesy import LocalProjection, step_lengths_m
from matching_and_import_db.osm.reader import Road, read_osm
from matching_and_import_db.rides.roadnet import RoadNetwork

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures"
OSLO_PBF = ROOT / "demo" / "oslo-east-filtered.osm.pbf"
ANDORRA_PBF = FIXTURES / "osm" / "andorra.osm.pbf"
ANDORRA_GPX = FIXTURES / "rides" / "gpx" / "graphhopper_andorra_for_map_matching.gpx"

# a made-up place for hand-made grids (Oslo's latitude, so metres per degree are realistic)
GRID_ORIGIN = LocalProjection.around(10.75, 59.91)


@dataclass
class OsmWays:
    ways: list[tuple]  # (osm_id, [(lon, lat), ...], oneway, highway)
    names: dict[int, str | None]
    coords: dict[int, np.ndarray]  # osm_id -> (n, 2) lon/lat


def read_ways(path: Path) -> OsmWays:
    roads = [r for r in read_osm(str(path)) if isinstance(r, Road)]
    geoms = shapely.from_wkb([bytes.fromhex(r.wkb) for r in roads])
    coords = {r.osm_id: shapely.get_coordinates(g) for r, g in zip(roads, geoms, strict=True)}
    ways = [(r.osm_id, coords[r.osm_id].tolist(), r.oneway, r.highway) for r in roads]
    return OsmWays(ways, {r.osm_id: r.name for r in roads}, coords)


def grid_way(osm_id: int, xy: list[tuple[float, float]], oneway: str | None = None,
             highway: str = "residential", access: dict | None = None) -> tuple:
    """A way given in metres east/north of the grid origin, with its access tags if any."""
    x, y = np.asarray(xy, dtype=np.float64).T
    lon, lat = GRID_ORIGIN.to_lonlat(x, y)
    way = (osm_id, list(zip(lon.tolist(), lat.tolist(), strict=True)), oneway, highway)
    return way if access is None else (*way, access)


@dataclass
class Ride:
    lon: np.ndarray
    lat: np.ndarray
    t: np.ndarray
    truth_way: np.ndarray  # OSM id of the way each fix was drawn from
    truth_dir: np.ndarray  # +1/-1 relative to that way's digitised direction
    route_m: np.ndarray | None = None  # metres along the route where each fix was drawn


def route_polyline(legs: list[tuple[int, np.ndarray, int]], projection: LocalProjection
                   ) -> tuple[np.ndarray, np.ndarray, list[tuple[int, int]]]:
    """The legs joined into one polyline (metres), with the (way id, direction) of each
    vertex: the segment ending at vertex k lies on the leg of vertex k."""
    xs, ys, labels = [], [], []
    for k, (way_id, lonlat, direction) in enumerate(legs):
        x, y = projection.to_xy(lonlat[:, 0], lonlat[:, 1])
        if k > 0:  # consecutive legs share their junction vertex
            x, y = x[1:], y[1:]
        xs.append(x)
        ys.append(y)
        labels += [(way_id, direction)] * len(x)
    return np.concatenate(xs), np.concatenate(ys), labels


def ride_along(legs: list[tuple[int, np.ndarray, int]], projection: LocalProjection,
               rng: np.random.Generator, speed: float = 5.0, dt: float = 1.0,
               sigma: float = 6.0, stop_at: float | None = None, stop_s: float = 0.0) -> Ride:
    """Ride legs (way id, lon/lat polyline in riding order, direction) one after the other.

    stop_at: metres into the ride where the rider waits stop_s seconds (a red light).
    """
    x, y, labels = route_polyline(legs, projection)
    step = np.hypot(np.diff(x), np.diff(y))
    cum = np.concatenate([[0.0], np.cumsum(step)])
    dist = np.arange(0.0, cum[-1], speed * dt)
    if stop_at is not None:
        before = dist[dist < stop_at]
        wait = np.full(int(stop_s / dt), stop_at)
        dist = np.concatenate([before, wait, dist[dist >= stop_at]])
    seg = np.clip(np.searchsorted(cum, dist, side="right") - 1, 0, len(step) - 1)
    f = (dist - cum[seg]) / np.where(step[seg] > 0, step[seg], 1.0)
    px = x[seg] + f * (x[seg + 1] - x[seg]) + rng.normal(0, sigma, len(dist))
    py = y[seg] + f * (y[seg + 1] - y[seg]) + rng.normal(0, sigma, len(dist))
    # the label of a segment is the leg of its end vertex (the start may be the junction)
    lab = [labels[s + 1] for s in seg.tolist()]
    lon, lat = projection.to_lonlat(px, py)
    return Ride(lon, lat, np.arange(len(dist)) * dt,
                np.array([w for w, _ in lab], dtype=np.int64),
                np.array([d for _, d in lab], dtype=np.int8), dist)


def drifting_error(n: int, sigma: float, rng: np.random.Generator, tau_s: float = 45.0,
                   dt: float = 1.0) -> np.ndarray:
    """GPS error that drifts as a real receiver's does: per axis a first-order Gauss-Markov
    (AR(1)) process with time constant tau_s and stationary standard deviation sigma, so it
    stays on one side for tens of seconds. (n, 2) metres east/north."""
    phi = np.exp(-dt / tau_s)
    e = np.empty((n, 2))
    e[0] = rng.normal(0, sigma, 2)
    innovation = rng.normal(0, sigma * np.sqrt(1 - phi * phi), (n, 2))
    for i in range(1, n):
        e[i] = phi * e[i - 1] + innovation[i]
    return e


def with_drift(ride: Ride, projection: LocalProjection, rng: np.random.Generator,
               sigma: float, offset: tuple[float, float] = (0.0, 0.0)) -> Ride:
    """The ride's fixes moved by drifting error (plus a constant offset, metres)."""
    x, y = projection.to_xy(ride.lon, ride.lat)
    e = drifting_error(len(x), sigma, rng)
    lon, lat = projection.to_lonlat(x + e[:, 0] + offset[0], y + e[:, 1] + offset[1])
    return Ride(lon, lat, ride.t, ride.truth_way, ride.truth_dir)


def part_of_way(lonlat: np.ndarray, start: int, stop: int) -> np.ndarray:
    """Vertices start..stop of a way (inclusive), reversed when stop < start."""
    if stop >= start:
        return lonlat[start:stop + 1]
    return lonlat[stop:start + 1][::-1]


def random_route(net: RoadNetwork, rng: np.random.Generator, length_m: float,
                 highways: frozenset[str], straight_bias: float = 4.0,
                 ) -> list[tuple[int, np.ndarray, int]]:
    """Legs of a random ride over the junction graph, as riders ride: with the oneways, no
    U-turns except at dead ends, and more often straight on than turning (the weight of a
    continuation is exp(straight_bias * cos(turn angle)))."""
    ok_piece = np.array([net.way_highway[w] in highways for w in net.piece_way])
    oneway = net.way_oneway[net.piece_way]
    by_node: dict[int, list[tuple[int, int]]] = {}  # node -> (piece, direction leaving)
    for p in np.flatnonzero(ok_piece).tolist():
        if oneway[p] >= 0:
            by_node.setdefault(int(net.piece_node_a[p]), []).append((p, 1))
        if oneway[p] <= 0:
            by_node.setdefault(int(net.piece_node_b[p]), []).append((p, -1))
    seg_order = np.argsort(net.seg_piece, kind="stable")
    seg_start = np.searchsorted(net.seg_piece[seg_order], np.arange(len(net.piece_way) + 1))

    def piece_xy(p: int, direction: int) -> tuple[np.ndarray, np.ndarray]:
        segs = seg_order[seg_start[p]:seg_start[p + 1]]
        x = np.concatenate([net.seg_x0[segs], [net.seg_x0[segs[-1]] + net.seg_dx[segs[-1]]]])
        y = np.concatenate([net.seg_y0[segs], [net.seg_y0[segs[-1]] + net.seg_dy[segs[-1]]]])
        return (x, y) if direction > 0 else (x[::-1], y[::-1])

    # start where most streets meet: a random walk from an island ends quickly
    node = max(by_node, key=lambda u: len(by_node[u]))
    legs, done, came, heading = [], 0.0, -1, None
    while done < length_m:
        options = [(p, d) for p, d in by_node.get(node, []) if p != came]
        if not options:  # dead end (or only the way back is allowed): turn round
            options = [(p, d) for p, d in by_node.get(node, [])] or [(came, -legs[-1][2])]
        weights = np.ones(len(options))
        if heading is not None:
            for k, (p, d) in enumerate(options):
                x, y = piece_xy(p, d)
                v = np.array([x[1] - x[0], y[1] - y[0]])
                weights[k] = math.exp(straight_bias * float(v @ heading) / np.linalg.norm(v))
        p, direction = options[int(rng.choice(len(options), p=weights / weights.sum()))]
        x, y = piece_xy(p, direction)
        heading = np.array([x[-1] - x[-2], y[-1] - y[-2]])
        heading /= np.linalg.norm(heading)
        lon, lat = net.projection.to_lonlat(x, y)
        legs.append((int(net.way_ids[net.piece_way[p]]), np.stack([lon, lat], axis=1),
                     direction))
        done += net.piece_along_b[p] - net.piece_along_a[p]
        node = int(net.piece_node_b[p] if direction > 0 else net.piece_node_a[p])
        came = p
    return legs


def read_gpx_points(path: Path) -> tuple[np.ndarray, np.ndarray]:
    ns = {"g": "http://www.topografix.com/GPX/1/1"}
    pts = ET.parse(path).getroot().findall(".//g:trkpt", ns)
    return (np.array([float(p.get("lon")) for p in pts]),
            np.array([float(p.get("lat")) for p in pts]))


def times_at_speed(lon: np.ndarray, lat: np.ndarray, speed: float) -> np.ndarray:
    """Timestamps for an untimed ride ridden at constant speed."""
    return np.concatenate([[0.0], np.cumsum(step_lengths_m(lon, lat))]) / speed

