"""Distances and near-neighbour search for stops: a k-d tree over locally projected
coordinates finds the pairs within a radius without comparing all pairs."""

from __future__ import annotations

import math

import numpy as np
from scipy.spatial import cKDTree

EARTH_RADIUS_M = 6_371_000.0
# an equirectangular projection stretches east-west distances by cos(lat)/cos(lat0); over a
# country (±3° of latitude) that is under 6 %: search a little wider, then measure exactly
_SEARCH_SLACK = 1.08


def haversine_m(lon1, lat1, lon2, lat2) -> np.ndarray:
    """Great-circle distance in metres; takes scalars or numpy arrays."""
    lon1, lat1, lon2, lat2 = (np.radians(np.asarray(v, dtype=float))
                              for v in (lon1, lat1, lon2, lat2))
    a = (np.sin((lat2 - lat1) / 2) ** 2
         + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2)
    return 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))


def haversine_one_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """haversine_m for one pair of points, without numpy's per-call cost."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = (math.sin((p2 - p1) / 2) ** 2
         + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2)
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(min(max(a, 0.0), 1.0)))


class Projection:
    """Metres east and north of the data's middle, good for neighbour search."""

    def __init__(self, lats: np.ndarray) -> None:
        middle = float(np.median(lats)) if len(lats) else 0.0
        self.cos_lat = max(np.cos(np.radians(middle)), 0.05)

    def xy(self, lons: np.ndarray, lats: np.ndarray) -> np.ndarray:
        scale = np.radians(1.0) * EARTH_RADIUS_M
        return np.column_stack([np.asarray(lons, float) * scale * self.cos_lat,
                                np.asarray(lats, float) * scale])


def pairs_within(lons_a, lats_a, lons_b, lats_b, radius_m: float,
                 projection: Projection) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(index in a, index in b, distance in metres) of every pair closer than radius_m."""
    empty = (np.zeros(0, int), np.zeros(0, int), np.zeros(0))
    if len(lons_a) == 0 or len(lons_b) == 0:
        return empty
    tree_a = cKDTree(projection.xy(lons_a, lats_a))
    tree_b = cKDTree(projection.xy(lons_b, lats_b))
    found = tree_a.sparse_distance_matrix(tree_b, radius_m * _SEARCH_SLACK,
                                          output_type="ndarray")
    if len(found) == 0:
        return empty
    ia, ib = found["i"].astype(np.int64), found["j"].astype(np.int64)
    dist = haversine_m(np.asarray(lons_a)[ia], np.asarray(lats_a)[ia],
                       np.asarray(lons_b)[ib], np.asarray(lats_b)[ib])
    keep = dist <= radius_m
    order = np.lexsort((dist[keep], ia[keep]))  # by a, nearest first: stable results
    return ia[keep][order], ib[keep][order], dist[keep][order]
