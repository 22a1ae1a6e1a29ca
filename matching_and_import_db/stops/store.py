"""The stop tables as the import and the review see them: OSM and official stops loaded as
matcher records, the evidence a decision is keyed by, and how decisions are judged against
newer data.

A decision is keyed by the stable ids of both sides plus a hash of the evidence the reviewer
saw (names, ids, platform codes, rounded coordinates, distance). An import applies it only
while the data still shows that evidence; otherwise it is flagged for review, never silently
applied to something the reviewer did not see.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass

import orjson

from matching_and_import_db.errors import InputError
from matching_and_import_db.geodesy import great_circle_m
from matching_and_import_db.sqlfiles import fetch_as, load_sql
from matching_and_import_db.stops.model import MATCHER_ACTIONS, Decision, OfficialStop, OsmStopRef

COORDINATE_DIGITS = 5  # about a metre: moving a stop by less does not change the evidence
# the actions whose evidence covers each side; a note covers whatever it names
PAIR_ACTIONS = ("confirm", "reject", "manual", "attribute")
_OSM_KEY = re.compile(r"^\s*(?:https?://\S*/)?(n|w|node|way)\s*[/:#]?\s*(\d{1,15})\s*$",
                      re.IGNORECASE)


PACKAGE = "matching_and_import_db.stops"


def parse_osm_key(value: str | None) -> str:
    """"n123", "node/123", "way 45" or an openstreetmap.org link → "n123" / "w45"."""
    found = _OSM_KEY.match(value or "")
    if not found:
        raise InputError(f"{value!r} is not an OSM node or way: write n123, w45 or node/123")
    return found.group(1)[0].lower() + str(int(found.group(2)))


# --- loading ---------------------------------------------------------------------------

def _osm_ref(*, tags: dict | None, stop_areas: list[int] | None, **columns) -> OsmStopRef:
    """One row of the osm_stops_*.sql files, by their column names."""
    return OsmStopRef(tags=tags or {}, stop_areas=tuple(stop_areas or ()), **columns)


def load_osm_stops(cur, near_table: tuple[str, str] | None = None,
                   within_m: float | None = None) -> list[OsmStopRef]:
    """The published OSM stops: all, or those within `within_m` of a staged official stop."""
    if within_m is None or near_table is None:
        cur.execute(load_sql(PACKAGE, "osm_stops_all.sql"))
    else:
        cur.execute(load_sql(PACKAGE, "osm_stops_near.sql", official=near_table),
                    {"within_m": float(within_m)})
    return fetch_as(cur, _osm_ref)


def load_osm_by_key(cur, keys: Iterable[str]) -> dict[str, OsmStopRef]:
    keys = sorted({k for k in keys if k})
    if not keys:
        return {}
    cur.execute(load_sql(PACKAGE, "osm_stops_by_key.sql"),
                {"types": [k[0] for k in keys], "ids": [int(k[1:]) for k in keys]})
    return {stop.key: stop for stop in fetch_as(cur, _osm_ref)}


def load_official_by_id(cur, ids: Iterable[str]) -> dict[str, OfficialStop]:
    """Published official stops, with the fields evidence is made of."""
    ids = sorted({i for i in ids if i})
    if not ids:
        return {}
    cur.execute(load_sql(PACKAGE, "official_by_id.sql"), {"ids": ids})
    return {stop.stop_id: stop for stop in fetch_as(cur, OfficialStop)}


# --- evidence --------------------------------------------------------------------------

def stop_evidence(official: OfficialStop | None, osm: OsmStopRef | None) -> dict:
    """What a reviewer sees of a pair (or of one stop): names, ids, platform codes, rounded
    coordinates and, for a pair, the distance between the rounded positions."""
    evidence: dict = {}
    if official is not None:
        evidence["official"] = {
            "id": official.stop_id, "name": official.name,
            "platform_code": official.platform_code,
            "lon": round(official.lon, COORDINATE_DIGITS),
            "lat": round(official.lat, COORDINATE_DIGITS)}
    if osm is not None:
        evidence["osm"] = {
            "key": osm.key, "name": osm.name, "local_ref": osm.local_ref, "ref": osm.ref,
            "lon": round(osm.lon, COORDINATE_DIGITS), "lat": round(osm.lat, COORDINATE_DIGITS)}
    if official is not None and osm is not None:
        a, b = evidence["official"], evidence["osm"]
        evidence["distance_m"] = int(round(float(
            great_circle_m(a["lon"], a["lat"], b["lon"], b["lat"]))))
    return evidence


def evidence_hash(evidence: dict) -> str:
    return hashlib.sha256(orjson.dumps(evidence, option=orjson.OPT_SORT_KEYS)).hexdigest()


def describe_change(seen: dict, now: dict) -> str:
    """'official name 'A' → 'B'; distance_m 3 → 41': what differs between two evidences."""
    def flat(evidence: dict) -> dict:
        out = {}
        for key, value in evidence.items():
            if isinstance(value, dict):
                out.update({f"{key} {k}": v for k, v in value.items()})
            else:
                out[key] = value
        return out

    a, b = flat(seen or {}), flat(now)
    changed = [f"{k} {a.get(k)!r} → {b.get(k)!r}" for k in sorted(set(a) | set(b))
               if a.get(k) != b.get(k)]
    return "; ".join(changed) or "the evidence changed"


# --- judging decisions against the data ------------------------------------------------

@dataclass(frozen=True)
class DecisionRow:
    id: int
    action: str
    official_id: str | None
    osm_key: str | None
    attribute: str | None
    note: str
    evidence: dict
    evidence_hash: str
    status: str
    updated_at: object  # the reviewer's last write; the run's update is guarded by it


@dataclass(frozen=True)
class Verdict:
    decision: DecisionRow
    status: str  # active | needs_review
    reason: str | None

    @property
    def applied(self) -> bool:
        return self.status == "active"


def load_decisions(cur) -> list[DecisionRow]:
    cur.execute(load_sql(PACKAGE, "decisions_to_evaluate.sql"))
    return fetch_as(cur, DecisionRow)


def judge_decisions(decisions: Iterable[DecisionRow], official: dict[str, OfficialStop],
                    osm: dict[str, OsmStopRef]) -> list[Verdict]:
    """Each decision against the data now: applied when both its stops are still there and
    show the evidence the reviewer saw; flagged for review otherwise, saying why."""
    verdicts = []
    for d in decisions:
        o = official.get(d.official_id) if d.official_id else None
        s = osm.get(d.osm_key) if d.osm_key else None
        if d.official_id and o is None:
            verdicts.append(Verdict(d, "needs_review", f"the official stop {d.official_id} is "
                                    "no longer in the registry"))
        elif d.osm_key and s is None:
            verdicts.append(Verdict(d, "needs_review",
                                    f"the OSM stop {d.osm_key} is no longer in OSM"))
        else:
            now = stop_evidence(o, s)
            if evidence_hash(now) == d.evidence_hash:
                verdicts.append(Verdict(d, "active", None))
            else:
                verdicts.append(Verdict(d, "needs_review", "the evidence changed: "
                                        + describe_change(d.evidence, now)))
    return verdicts


def matcher_decisions(verdicts: Iterable[Verdict]) -> list[Decision]:
    """The applied decisions the matcher takes, in the order they were made."""
    return [Decision(v.decision.action, v.decision.official_id,
                     v.decision.osm_key if v.decision.action != "missing_in_osm" else None,
                     v.decision.note or "")
            for v in verdicts if v.applied and v.decision.action in MATCHER_ACTIONS]


def resolve_problems(cur, problems_table: str | tuple[str, str], decision_ids: list[int]) -> int:
    """Link the problems these decisions settle to them; returns how many."""
    if not decision_ids:
        return 0
    cur.execute(load_sql(PACKAGE, "resolve_problems.sql", problems=problems_table),
                {"decision_ids": list(decision_ids)})
    return cur.rowcount
