"""Distances and near-neighbour search for stops: a k-d tree over locally projected
coordinates finds the pairs within a radius without comparing all pairs.

SciPy is imported by the search itself, not with the module (assignment.py says why)."""

from __future__ import annotations

import numpy as np

from matching_and_import_db.geodesy import LocalProjection, great_circle_m

# an equirectangular projection stretches east-west distances by cos(lat)/cos(lat0); over a
# country (±3° of latitude) that is under 6 %: search a little wider, then measure exactly
_SEARCH_SLACK = 1.08


class Projection:
    """Metres east and north of the data's middle latitude (geodesy.LocalProjection),
    good for neighbour search."""

    def __init__(self, lats: np.ndarray) -> None:
        middle = float(np.median(lats)) if len(lats) else 0.0
        self.local = LocalProjection.around(0.0, middle, min_cos_lat=0.05)

    def xy(self, lons: np.ndarray, lats: np.ndarray) -> np.ndarray:
        return np.column_stack(self.local.to_xy(lons, lats))


def pairs_within(lons_a, lats_a, lons_b, lats_b, radius_m: float,
                 projection: Projection) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(index in a, index in b, distance in metres) of every pair closer than radius_m."""
    from scipy.spatial import cKDTree

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
    dist = great_circle_m(np.asarray(lons_a)[ia], np.asarray(lats_a)[ia],
                          np.asarray(lons_b)[ib], np.asarray(lats_b)[ib])
    keep = dist <= radius_m
    order = np.lexsort((dist[keep], ia[keep]))  # by a, nearest first: stable results
    return ia[keep][order], ib[keep][order], dist[keep][order]
