"""Which registry rows an import matches: by default those within the area the published OSM
data covers, and, when the operator asks, those of some countries or (ATLAS) only the
service points that are stop points.

A national registry matched against a city's OSM extract would otherwise report every stop
outside the city as "unmatched official" (priority 1): thousands of problems nobody can
solve. Rows left out are neither published nor matched; the run counts them by reason.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import shapely

from matching_and_import_db.sqlfiles import load_sql
from matching_and_import_db.stops.model import OfficialStop
from matching_and_import_db.stops.store import PACKAGE

DEFAULT_MARGIN_M = 100.0
# why a row was left out; the keys of the run's counts are "left_out_<reason>"
OUTSIDE_OSM = "outside_osm_area"
OTHER_COUNTRY = "other_country"
NOT_A_STOP_POINT = "not_a_stop_point"


@dataclass(frozen=True)
class Scope:
    area: shapely.Geometry | None = None  # None: no area limit
    countries: frozenset[str] | None = None  # upper-case codes; None: every country
    stop_points_only: bool = False


def osm_coverage(cur, margin_m: float = DEFAULT_MARGIN_M) -> shapely.Geometry | None:
    """The convex hull of the published OSM stops and roads, widened by margin_m; None when
    no OSM data is published."""
    cur.execute(load_sql(PACKAGE, "osm_coverage.sql"), {"margin_m": float(margin_m)})
    row = cur.fetchone()
    if row is None or row[0] is None:
        return None
    area = shapely.from_wkb(bytes(row[0]))
    shapely.prepare(area)
    return area


def limit(stops: Sequence[OfficialStop], scope: Scope
          ) -> tuple[list[OfficialStop], Counter[str]]:
    """The rows within the scope, and how many were left out for each reason (the first
    reason that applies: country, then stop point, then area)."""
    left_out: Counter[str] = Counter()
    keep = np.ones(len(stops), dtype=bool)
    for i, stop in enumerate(stops):
        reason = _attribute_reason(stop, scope)
        if reason:
            keep[i] = False
            left_out[reason] += 1
    if scope.area is not None and len(stops):
        lons = np.fromiter((s.lon for s in stops), float, len(stops))
        lats = np.fromiter((s.lat for s in stops), float, len(stops))
        inside = shapely.intersects_xy(scope.area, lons, lats)
        outside = keep & ~inside
        left_out[OUTSIDE_OSM] += int(outside.sum())
        keep &= inside
    return [s for s, k in zip(stops, keep, strict=True) if k], left_out


def _attribute_reason(stop: OfficialStop, scope: Scope) -> str | None:
    country = (stop.extra.get("country") or "").strip().upper()
    if scope.countries is not None and country and country not in scope.countries:
        return OTHER_COUNTRY
    if scope.stop_points_only and stop.extra.get("stop_point", "").lower() == "false":
        return NOT_A_STOP_POINT
    return None


def countries(values: Iterable[str]) -> frozenset[str]:
    return frozenset(v.strip().upper() for v in values if v.strip())
