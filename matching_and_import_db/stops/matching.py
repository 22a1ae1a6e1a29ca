"""Match an official stop registry with OSM stops, in stages that each record their method
and evidence:

  decision       what people decided (confirm, manual pair, reject, missing), applied first
  identifier     ref:sloid, ref:IFOPT, gtfs:stop_id, naptan:AtcoCode, any OSM tag a reader
                 names (extra "osm:<tag>"); uic_ref + local_ref; a stop place's uic_ref
                 takes every OSM object of that station
  group          a stop place (level "place") is matched to an OSM stop group: the
                 platforms, stop positions and station of one stop (groups.stop_groups)
  distance_name  platform rows: candidates within a radius whose names agree, taken when
                 mutually best and not ambiguous
  assignment     one-to-one optimal assignment among what is left, with a ratio test so an
                 ambiguous nearest candidate is not taken blindly
  propagation    to the stop_position members of a matched OSM stop, and to registry duplicates

Platform rows are matched to platform nodes first, then to platform outlines (ways) left
over: the node and the outline of one platform are not rivals. Stop positions and stations
are only taken for a platform row that has no platform with a name like its own nearby.
Pairs whose modes are incompatible are never candidates, nor, for rows with a direction of
travel, platforms across the street where the data shows a kerb side (stops.sides); a pair
needs name evidence (the registry's locality prefix removed, see names.registry_name),
distance alone never makes a match. Every threshold is in MatchingProfile, whose values
are returned with each result.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field

import numpy as np

from matching_and_import_db.errors import InputError
from matching_and_import_db.geodesy import great_circle_one_m
from matching_and_import_db.stops import groups, identifiers, names, problems, sides
from matching_and_import_db.stops.assignment import (
    assign_one_to_one,
    best_mutual_unambiguous,
    passes_ratio_test,
)
from matching_and_import_db.stops.model import (
    Decision,
    Match,
    OfficialStop,
    OsmStopRef,
    Problem,
)
from matching_and_import_db.stops.modes import masks_compatible, mode_mask, modes_of_osm_tags
from matching_and_import_db.stops.spatial import Projection, pairs_within

PLATFORM_KINDS = ("platform", "bus_stop", "tram_stop", "halt")
OSM_OTHER_NAMES = frozenset({"alt_name", "official_name", "short_name"})


@dataclass(frozen=True)
class MatchingProfile:
    """Every threshold of the matcher; `version` is stored with each run's results."""

    version: str = "stops-2026.3"
    candidate_radius_m: float = 100.0  # farther OSM stops are never candidates
    name_accept: float = 85.0  # names this similar (0..100) count as the same name
    name_weak: float = 60.0  # ...this similar: still support a match within weak_name_max_m
    weak_name_max_m: float = 40.0
    score_margin: float = 0.02  # distance_name: best must beat the runner-up by this
    distance_weight: float = 0.3  # score = name/100 - weight * distance/radius + platform
    platform_bonus: float = 0.1  # platform codes equal
    platform_penalty: float = 0.3  # platform codes differ
    ratio: float = 1.25  # assignment: next free candidate must be this many times farther...
    min_separation_m: float = 3.0  # ...and at least this much farther...
    name_margin: float = 15.0  # ...unless its name is this much less similar
    max_component: int = 2000  # larger candidate clusters are assigned greedily
    group_radius_m: float = 40.0  # platform and stop_position of one stop lie this close
    stop_group_radius_m: float = 80.0  # same-named objects this close form one stop group
    duplicate_radius_m: float = 3.0  # same name and platform this close: duplicates
    shared_stop_radius_m: float = 10.0  # ...and this close when their modes differ
    # the kerb side (stops.sides): platforms lie on one side of the rows' direction of
    # travel when this share of at least this many rows with a bearing (whose nearest
    # platform of their name is clear) have theirs there; 0.5 is what no side gives
    kerb_side_min_rows: int = 20
    kerb_side_min_share: float = 0.75
    # ...and then a platform this far on the other side is across the street
    kerb_side_margin_m: float = 1.0
    # an unmatched stop and a free OSM platform, neither with a namesake on the other side
    # within candidate_radius_m, this close: offered to reviewers as renamed (stops.renames)
    renamed_max_m: float = 30.0
    too_far_m: float = 50.0  # a matched pair farther apart is a problem...
    too_far_high_m: float = 200.0  # ...of priority 1 beyond this
    name_mismatch_below: float = 80.0  # matched pair with less similar names: a problem
    operator_mismatch_below: float = 70.0
    platform_kinds: tuple[str, ...] = PLATFORM_KINDS

    def as_dict(self) -> dict:
        return asdict(self)


DEFAULT_PROFILE = MatchingProfile()


@dataclass
class MatchingResult:
    matches: list[Match]
    unmatched_official: list[str]  # no pair and no "missing_in_osm" decision
    unmatched_osm: list[str]
    effectively_matched_osm: list[str]  # unmatched, but part of an OSM stop that is matched
    confirmed_missing: list[str]
    official_duplicates: list[list[str]]
    osm_duplicates: list[list[str]]
    problems: list[Problem]
    stage_counts: dict[str, int]
    method_counts: dict[str, int]
    profile: dict
    stale_decisions: list[Decision] = field(default_factory=list)

    def pairs(self) -> set[tuple[str, str]]:
        return {(m.official_id, m.osm_key) for m in self.matches}


class _Run:
    """The inputs as arrays, the candidate pairs, and what is still free."""

    def __init__(self, official: Sequence[OfficialStop], osm: Sequence[OsmStopRef],
                 profile: MatchingProfile) -> None:
        self.official, self.osm, self.profile = list(official), list(osm), profile
        self.o_index = _unique_index([o.stop_id for o in self.official], "official stop id")
        self.s_index = _unique_index([s.key for s in self.osm], "OSM stop")
        self.o_lon = np.array([o.lon for o in self.official], float)
        self.o_lat = np.array([o.lat for o in self.official], float)
        self.s_lon = np.array([s.lon for s in self.osm], float)
        self.s_lat = np.array([s.lat for s in self.osm], float)
        parts = [names.registry_name(o.name) for o in self.official]
        self.o_locality = [loc for loc, _ in parts]
        self.o_name = [rest for _, rest in parts]
        self.localities = frozenset(loc for loc in self.o_locality if loc)
        self.s_name = [names.normalize_name(s.name) for s in self.osm]
        self.o_place = np.array([o.level == "place" for o in self.official], bool)
        self.s_modes = [modes_of_osm_tags(s.tags) for s in self.osm]
        self.o_mode_mask = np.array([mode_mask(o.mode) for o in self.official], np.int64)
        self.s_mode_mask = np.array([mode_mask(m) for m in self.s_modes], np.int64)
        self.o_plat = np.array([names.normalize_platform(o.platform_code)
                                or names.platform_hint(o.name) or "" for o in self.official],
                               dtype=object)
        self.s_plat = np.array([_osm_platform(s) for s in self.osm], dtype=object)
        self.s_primary = np.array([s.kind in profile.platform_kinds for s in self.osm], bool)
        self.s_node = np.array([s.osm_type == "n" for s in self.osm], bool)
        self.o_free = np.ones(len(self.official), bool)
        self.o_duplicate_group = np.full(len(self.official), -1)  # registry duplicates
        self.s_free = np.ones(len(self.osm), bool)
        self.s_blocked = np.zeros(len(self.osm), bool)  # unmatched, but part of a matched stop
        self.rejected: set[tuple[int, int]] = set()
        self.matches: list[Match] = []
        self.matched_osm: dict[int, list[int]] = {}  # official -> OSM stops, in match order
        self.refused: dict[int, dict] = {}  # official -> why assignment refused it
        self.projection = Projection(np.concatenate([self.o_lat, self.s_lat]))
        self.osm_neighbours = None  # OSM pairs within group_radius_m, made when needed
        self.s_group: np.ndarray | None = None  # OSM stop group of each object, when needed
        self.o_by_name: dict[str, list[int]] | None = None  # registry rows by name, when needed
        self._candidates()

    def _candidates(self) -> None:
        p = self.profile
        pi, pj, pd = pairs_within(self.o_lon, self.o_lat, self.s_lon, self.s_lat,
                                  p.candidate_radius_m, self.projection)
        # a bus stop and a railway halt are never the same stop, whatever their names
        fits = masks_compatible(self.o_mode_mask[pi], self.s_mode_mask[pj])
        self.pi, self.pj, self.pd = pi[fits], pj[fits], pd[fits]
        o_names, s_names = np.asarray(self.o_name, object), np.asarray(self.s_name, object)
        a, b = o_names[self.pi], s_names[self.pj]
        localities = [self.o_locality[i] for i in self.pi.tolist()]
        self.psim = names.registry_pair_similarities(list(a), localities, list(b),
                                                     self.localities)
        self._other_names()
        self.psim[(a == "") | (b == "")] = np.nan  # no name on a side: no name evidence
        self._kerb_side()
        po, ps = self.o_plat[self.pi], self.s_plat[self.pj]
        known = (po != "") & (ps != "")
        self.pplat = np.where(known, np.where(po == ps, 1, -1), 0)
        name_part = np.nan_to_num(self.psim, nan=50.0) / 100.0
        self.p_rejected = np.zeros(len(self.pi), bool)
        self.pscore = (name_part - p.distance_weight * self.pd / p.candidate_radius_m
                       + np.where(self.pplat > 0, p.platform_bonus, 0.0)
                       - np.where(self.pplat < 0, p.platform_penalty, 0.0))

    def _kerb_side(self) -> None:
        """Drop the platforms across the street from rows whose direction of travel is
        known, where the data shows on which side of it platforms lie (see stops.sides):
        the quays of both directions of a stop, a metre apart on the road, then each find
        their own platform."""
        bearing = sides.bearings(self.official)
        has = (~np.isnan(bearing[self.pi]) & self.s_primary[self.pj]
               & ~self.o_place[self.pi])
        self.kerb_side = 0
        if not has.any():
            return
        lateral = np.full(len(self.pi), np.nan)
        lateral[has] = sides.lateral_offsets(self, self.pi[has], self.pj[has], bearing)
        named = np.nonzero(has & (np.nan_to_num(self.psim, nan=0.0)
                                  >= self.profile.name_accept))[0]
        self.kerb_side = sides.kerb_side(lateral, _clearly_nearest(
            named, self.pi, self.pd, self.profile, len(self.pi)), self.profile)
        if self.kerb_side:
            across = has & (lateral * self.kerb_side < -self.profile.kerb_side_margin_m)
            keep = ~across
            self.pi, self.pj, self.pd = self.pi[keep], self.pj[keep], self.pd[keep]
            self.psim = self.psim[keep]

    def _other_names(self) -> None:
        """A pair's similarity is that of the best pair of names the two sides carry: in
        bilingual cities the registry and OSM may each give the other language first
        ("Hanken" / "Kauppakorkeakoulut"). The registry's other names are in extra
        "alt_name" (";"-separated), OSM's in name:*, alt_name, official_name, short_name."""
        o_alt = [[names.registry_name(n)[1] for n in o.extra.get("alt_name", "").split(";")
                  if n.strip()] for o in self.official]
        s_alt = [[names.normalize_name(v) for k, v in s.tags.items()
                  if k in OSM_OTHER_NAMES or k.startswith("name:")] for s in self.osm]
        left, right, where = [], [], []
        for k, (i, j) in enumerate(zip(self.pi.tolist(), self.pj.tolist(), strict=True)):
            if not o_alt[i] and not s_alt[j]:
                continue
            for x in (self.o_name[i], *o_alt[i]):
                for y in (self.s_name[j], *s_alt[j]):
                    if x and y and (x, y) != (self.o_name[i], self.s_name[j]):
                        left.append(x)
                        right.append(y)
                        where.append(k)
        if where:
            np.maximum.at(self.psim, np.array(where), names.pair_similarities(left, right))

    def reject(self, oi: int, sj: int) -> None:
        self.rejected.add((oi, sj))
        code = oi * len(self.osm) + sj
        self.p_rejected |= (self.pi * len(self.osm) + self.pj) == code

    def alive(self, kinds: str) -> np.ndarray:
        """Candidate pairs of platform rows still possible, with OSM stops of the pass's
        kinds: "nodes" (platform nodes), "outlines" (platform ways), "other" (stop
        positions and stations, for rows with no platform of their name nearby)."""
        base = (self.o_free[self.pi] & self.s_free[self.pj] & ~self.s_blocked[self.pj]
                & ~self.p_rejected & ~self.o_place[self.pi])
        primary = self.s_primary[self.pj]
        if kinds == "nodes":
            return base & primary & self.s_node[self.pj]
        if kinds == "outlines":
            return base & primary & ~self.s_node[self.pj]
        named_platform = primary & (np.nan_to_num(self.psim, nan=0.0)
                                    >= self.profile.name_weak)
        has_platform = np.zeros(len(self.official), bool)
        has_platform[self.pi[named_platform]] = True
        return base & ~primary & ~has_platform[self.pi]

    def add(self, oi: int, sj: int, method: str, stage: str, score: float,
            evidence: dict, take_official: bool = True) -> None:
        o, s = self.official[oi], self.osm[sj]
        distance = great_circle_one_m(o.lon, o.lat, s.lon, s.lat)
        score = min(max(float(score), 0.0), 1.0)
        self.matches.append(Match(self.official[oi].stop_id, self.osm[sj].key, method, stage,
                                  round(score, 4), round(distance, 2), evidence))
        self.matched_osm.setdefault(oi, []).append(sj)
        self.s_free[sj] = False
        if take_official:
            self.o_free[oi] = False


def match_stops(official: Sequence[OfficialStop], osm: Sequence[OsmStopRef],
                profile: MatchingProfile = DEFAULT_PROFILE,
                decisions: Iterable[Decision] = ()) -> MatchingResult:
    """Pair official stops with OSM stops; see the module docstring for the stages."""
    run = _Run(official, osm, profile)
    duplicates = groups.official_duplicates(run)
    for number, group in enumerate(duplicates):
        run.o_duplicate_group[group] = number
    missing, stale = identifiers.apply_decisions(run, decisions)
    # a registry duplicate follows the first of its group, unless it has its own identifier
    held = {oi for group in duplicates if groups.one_platform(run, group)
            for oi in groups.followers(run, group) if run.o_free[oi]}
    run.o_free[list(held)] = False
    identifiers.match_identifiers(run, held)
    groups.match_places(run)
    for kinds in ("nodes", "outlines", "other"):
        _match_distance_name(run, kinds)
        _match_assignment(run, kinds)
        groups.propagate_to_members(run)
        # what is left of a matched OSM stop is not offered to another official stop
        run.s_blocked[list(groups.effectively_matched(run, ~run.s_free))] = True
    groups.propagate_to_duplicates(run, duplicates, held)

    matched_osm = ~run.s_free
    effectively = groups.effectively_matched(run, matched_osm)
    unmatched_osm = [j for j in range(len(run.osm)) if not matched_osm[j]]
    unmatched_official = [i for i in range(len(run.official))
                          if i not in run.matched_osm and i not in missing]
    osm_duplicates = groups.osm_duplicates(run)
    found = problems.find_problems(run, unmatched_official,
                                   [j for j in unmatched_osm if j not in effectively],
                                   duplicates, osm_duplicates)
    return MatchingResult(
        matches=run.matches,
        unmatched_official=[run.official[i].stop_id for i in unmatched_official],
        unmatched_osm=[run.osm[j].key for j in unmatched_osm],
        effectively_matched_osm=[run.osm[j].key for j in sorted(effectively)],
        confirmed_missing=[run.official[i].stop_id for i in sorted(missing)],
        official_duplicates=[[run.official[i].stop_id for i in g] for g in duplicates],
        osm_duplicates=[[run.osm[j].key for j in g] for g in osm_duplicates],
        problems=found,
        stage_counts=dict(Counter(m.stage for m in run.matches)),
        method_counts=dict(Counter(m.method for m in run.matches)),
        profile=profile.as_dict(),
        stale_decisions=stale,
    )


def _clearly_nearest(ks: np.ndarray, pi: np.ndarray, pd: np.ndarray, profile,
                     size: int) -> np.ndarray:
    """Of the pairs ks (sorted by row, nearest first), each row's nearest where the next is
    clearly farther by the ratio test's measures (ratio, min_separation_m): a mask."""
    out = np.zeros(size, bool)
    if not len(ks):
        return out
    rows = pi[ks]
    first = np.r_[True, rows[1:] != rows[:-1]]
    starts = np.nonzero(first)[0]
    nxt = starts + 1
    has_next = nxt < len(ks)
    has_next[has_next] = rows[nxt[has_next]] == rows[starts[has_next]]
    d0 = pd[ks[starts]]
    d1 = np.full(len(starts), np.inf)
    d1[has_next] = pd[ks[nxt[has_next]]]
    clear = d1 >= np.maximum(profile.ratio * d0, d0 + profile.min_separation_m)
    out[ks[starts[clear]]] = True
    return out


def _unique_index(ids: list[str], what: str) -> dict[str, int]:
    index: dict[str, int] = {}
    for i, value in enumerate(ids):
        if value in index:
            raise InputError(f"{what} {value!r} appears twice; stable ids must be unique")
        index[value] = i
    return index


def _osm_platform(stop: OsmStopRef) -> str:
    """The platform code of an OSM stop: local_ref, else a short `ref` ("A", "Bussteig C";
    long refs are stop codes, not platforms), else a designation written in the name."""
    if stop.local_ref:
        return names.normalize_platform(stop.local_ref) or ""
    if stop.ref and (len(stop.ref) <= 2 or names.split_platform("x " + stop.ref)[1]):
        return names.normalize_platform(stop.ref) or ""
    return names.platform_hint(stop.name) or ""


def _match_distance_name(run: _Run, kinds: str) -> None:
    p = run.profile
    for _ in range(4):  # taking clear pairs can make the next ones clear
        mask = run.alive(kinds) & (run.psim >= p.name_accept) & (run.pplat >= 0)
        taken = best_mutual_unambiguous(np.nonzero(mask)[0], run.pi, run.pj, run.pscore,
                                        p.score_margin)
        for k in taken:
            run.add(int(run.pi[k]), int(run.pj[k]), "name_and_distance", "distance_name",
                    run.pscore[k], _pair_evidence(run, k, kinds))
        if not taken:
            return


def name_supported(run: _Run) -> np.ndarray:
    """Candidate pairs whose names are evidence enough: the same name, or a similar one
    close by. A pair without names on both sides never is: distance alone is no match."""
    p = run.profile
    sim = np.nan_to_num(run.psim, nan=-1.0)
    return (sim >= p.name_accept) | ((sim >= p.name_weak) & (run.pd <= p.weak_name_max_m))


def _match_assignment(run: _Run, kinds: str) -> None:
    p = run.profile
    # a different platform code means a different platform, whatever the name says
    candidates = np.nonzero(run.alive(kinds) & name_supported(run) & (run.pplat >= 0))[0]
    chosen, component_size = assign_one_to_one(candidates, run.pi, run.pj, run.pscore,
                                               p.max_component)
    for k, (ok, why) in zip(chosen, passes_ratio_test(chosen, candidates, run, p),
                            strict=True):
        oi = int(run.pi[k])
        if not ok:
            run.refused[oi] = why
            continue
        evidence = {**_pair_evidence(run, k, kinds), **why,
                    "component_size": component_size[k]}
        run.add(oi, int(run.pj[k]), "assignment", "assignment", run.pscore[k], evidence)


def _pair_evidence(run: _Run, k: int, kinds: str) -> dict:
    sim = run.psim[k]
    return {"pass": {"nodes": "platforms", "outlines": "platform_outlines",
                     "other": "other_kinds"}[kinds],
            "name_similarity": None if np.isnan(sim) else round(float(sim), 1),
            "official_name": run.official[run.pi[k]].name, "osm_name": run.osm[run.pj[k]].name,
            "platform": {1: "equal", -1: "differ", 0: "unknown"}[int(run.pplat[k])]}


