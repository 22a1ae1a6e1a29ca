"""The stop records matching works on, and what it produces: matches, problems, decisions."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any


@dataclass(frozen=True, slots=True)
class OfficialStop:
    """One stop (platform, quay, traffic point) of an official registry."""

    source: str  # "atlas", "gtfs", "naptan", "csv", "geojson"
    stop_id: str  # the source's stable id: sloid, GTFS stop_id, ATCOCode, ...
    name: str | None
    lon: float
    lat: float
    platform_code: str | None = None
    operator: str | None = None
    valid_from: date | None = None
    valid_to: date | None = None
    # identifiers OSM may carry, each compared with its own tag by the identifier stage
    sloid: str | None = None  # ref:sloid
    ifopt: str | None = None  # ref:IFOPT (DHID in Germany)
    uic_ref: str | None = None  # uic_ref: the station number (ATLAS "number")
    didok: str | None = None  # the short DiDok number, kept for review
    gtfs_stop_id: str | None = None  # gtfs:stop_id
    atco_code: str | None = None  # naptan:AtcoCode
    parent_id: str | None = None
    # what the row stands for: "place" (a stop place, station or stop area, matched to a
    # group of OSM objects) or "platform" (one quay, pole or traffic point: one OSM object)
    level: str = "platform"
    # mode of transport in the vocabulary of stops.modes: bus, tram, rail, metro, ferry,
    # cableway, funicular; None when the registry does not say
    mode: str | None = None
    extra: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class OsmStopRef:
    """One OSM stop, with the columns of the osm_stops table."""

    osm_type: str  # "n" or "w"
    osm_id: int
    kind: str  # platform, stop_position, station, bus_stop, tram_stop, halt
    name: str | None
    ref: str | None
    uic_ref: str | None
    ref_ifopt: str | None
    ref_sloid: str | None
    local_ref: str | None
    operator: str | None
    tags: dict[str, str]
    lon: float
    lat: float
    # the stop_area relations (public_transport=stop_area) the object is a member of
    stop_areas: tuple[int, ...] = ()

    @property
    def key(self) -> str:
        """The stable id of the OSM side in matches and decisions: "n123", "w456"."""
        return f"{self.osm_type}{self.osm_id}"


@dataclass(frozen=True, slots=True)
class Match:
    official_id: str
    osm_key: str
    method: str  # how: "ref_ifopt", "uic_ref+local_ref", "name_and_distance", ...
    stage: str  # which stage: decision, identifier, distance_name, assignment, propagation
    score: float  # 0..1; 1 for identifiers and human decisions
    distance_m: float
    evidence: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Problem:
    type: str  # see problems.PROBLEM_TYPES
    priority: int  # 1 = look at first
    official_id: str | None
    osm_key: str | None
    lon: float | None
    lat: float | None
    evidence: dict[str, Any] = field(default_factory=dict)


# What a reviewer can decide, one vocabulary for the review pages, the stop_decisions
# table (its CHECK constraint lists the same words) and the matcher. confirm, reject and
# manual name a pair; missing_in_osm an official stop with no OSM counterpart;
# missing_in_registry an OSM stop the registry lacks; attribute which side is right for
# one attribute of a pair; note a remark on either side.
DECISION_ACTIONS = ("confirm", "reject", "manual", "missing_in_osm", "missing_in_registry",
                    "attribute", "note")
# the decisions the matcher applies itself (the others settle problems only)
MATCHER_ACTIONS = ("confirm", "reject", "manual", "missing_in_osm")


@dataclass(frozen=True, slots=True)
class Decision:
    """What a person decided about a pair or a stop; applied before any automatic stage.

    confirm: a proposed pair is right; manual: a pair the matcher did not find;
    reject: this pair is wrong, never propose it again; missing_in_osm: the official stop
    has no counterpart in OSM (osm_key is None), so it is not reported as unmatched.
    Only MATCHER_ACTIONS: the other reviewers' decisions do not change a matching.
    """

    action: str
    official_id: str
    osm_key: str | None = None
    note: str = ""

    def __post_init__(self) -> None:
        if self.action not in MATCHER_ACTIONS:
            raise ValueError(f"unknown decision {self.action!r} for the matcher; "
                             f"one of {MATCHER_ACTIONS}")
        if (self.action == "missing_in_osm") != (self.osm_key is None):
            raise ValueError(f"decision {self.action!r} on {self.official_id}: "
                             + ("takes no OSM stop" if self.action == "missing_in_osm"
                                else "needs the OSM stop (osm_key)"))
