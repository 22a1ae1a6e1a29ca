"""What a reviewer's decision does to the published stop tables, at once.

The stops import is one writer of stop_matches and stop_problems (its publish phase); the
review is the other, and it writes only through these functions, so the web app never
touches the published tables itself. Each works in the caller's transaction, commits
nothing, and returns the lon/lat box over which the stop layers changed: the caller
commits and then tells the tile cache (TileInvalidator.changed(STOPS, extent)).

Every row a decision changes lies at one of its two stops: the match line runs between
them, and the problems it settles or reopens are about them (a superseded decision names
the same official or OSM stop). The extent is taken from the rows themselves all the same,
so a problem drawn elsewhere is covered too.
"""

from __future__ import annotations

from dataclasses import dataclass

from psycopg2.extras import Json

from matching_and_import_db.geodesy import great_circle_m
from matching_and_import_db.sqlfiles import load_sql
from matching_and_import_db.stops import store
from matching_and_import_db.stops.matching import DEFAULT_PROFILE
from matching_and_import_db.stops.model import OfficialStop, OsmStopRef
from matching_and_import_db.tilecache import BBox

PUBLISHED_PROBLEMS = "stop_problems"


@dataclass(frozen=True)
class DecisionToApply:
    """A decision just recorded (or kept again) by a reviewer."""

    id: int
    action: str  # stops.store: confirm, reject, manual, attribute, missing_*, note
    official_id: str | None
    osm_key: str | None
    note: str = ""


def apply_decision(cur, decision: DecisionToApply, official: OfficialStop | None,
                   osm: OsmStopRef | None, superseded: list[int]) -> BBox | None:
    """A rejected pair leaves the matches, a confirmed or hand-made pair is marked as a
    decision's, the problems of the decisions it supersedes open again, and the problems
    it settles are linked to it."""
    pair = {"official_id": decision.official_id, "osm_key": decision.osm_key}
    if decision.action == "reject":
        cur.execute(_sql("review_reject_match.sql"), pair)
    elif decision.action == "confirm":
        cur.execute(_sql("review_confirm_match.sql"), pair)
    elif decision.action == "manual":
        cur.execute(_sql("review_manual_match.sql"), {
            **pair, "distance_m": round(float(great_circle_m(official.lon, official.lat,
                                                          osm.lon, osm.lat)), 2),
            "official_name": official.name, "osm_name": osm.name,
            "evidence": Json({"note": decision.note} if decision.note else {}),
            "profile_version": DEFAULT_PROFILE.version,
            "official_lon": official.lon, "official_lat": official.lat,
            "osm_lon": osm.lon, "osm_lat": osm.lat})
    points = _reopen(cur, superseded)
    store.resolve_problems(cur, PUBLISHED_PROBLEMS, [decision.id])
    cur.execute(_sql("decision_problems_at.sql"), {"decision_id": decision.id})
    points += cur.fetchall()
    points += [(s.lon, s.lat) for s in (official, osm) if s is not None]
    return _extent(points)


def withdraw_decision(cur, decision_id: int) -> BBox | None:
    """The problems the decision settled open again now (the matches it made change with
    the next import)."""
    return _extent(_reopen(cur, [decision_id]))


def _reopen(cur, decision_ids: list[int]) -> list[tuple[float, float]]:
    if not decision_ids:
        return []
    cur.execute(_sql("reopen_problems.sql"), {"decision_ids": list(decision_ids)})
    return cur.fetchall()


def _extent(points) -> BBox | None:
    points = [(x, y) for x, y in points if x is not None and y is not None]
    if not points:
        return None
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    return min(xs), min(ys), max(xs), max(ys)


def _sql(name: str):
    return load_sql("matching_and_import_db.stops", name)
