"""What a matching run leaves for people to look at, each with a type, a priority and the
evidence to decide on: pairs too far apart, unmatched stops on either side, attributes that
disagree, duplicates. And counts of them per type and per area."""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable

import numpy as np
from rapidfuzz import fuzz

from matching_and_import_db.stops import names, renames
from matching_and_import_db.stops.model import Problem

TOO_FAR = "too_far"
UNMATCHED_OFFICIAL = "unmatched_official"
UNMATCHED_OSM = "unmatched_osm"
ATTRIBUTE_MISMATCH = "attribute_mismatch"
DUPLICATES = "duplicates"
PROBLEM_TYPES = (TOO_FAR, UNMATCHED_OFFICIAL, UNMATCHED_OSM, ATTRIBUTE_MISMATCH, DUPLICATES)

_NEAREST_SHOWN = 3  # candidates listed with an unmatched official stop


def find_problems(run, unmatched_official: list[int], unmatched_osm: list[int],
                  duplicates: list[list[int]], osm_duplicates: list[list[int]],
                  ) -> list[Problem]:
    """run is the matcher's state (matching._Run): inputs, candidate pairs and matches."""
    found: list[Problem] = []
    for match in run.matches:
        found.extend(_pair_problems(run, match))
    found.extend(_unmatched_official(run, unmatched_official, unmatched_osm))
    for j in unmatched_osm:
        stop = run.osm[j]
        # a platform is what a registry lists; a lone stop_position matters less
        priority = 2 if run.s_primary[j] else 3
        found.append(Problem(UNMATCHED_OSM, priority, None, stop.key, stop.lon, stop.lat,
                             {"kind": stop.kind, "name": stop.name}))
    for group in duplicates:
        first = run.official[group[0]]
        members = [run.official[i].stop_id for i in group]
        targets = [run.osm[j].key for j in run.matched_osm.get(group[0], [])] or [None]
        for key in targets:
            found.append(Problem(DUPLICATES, 2, first.stop_id, key, first.lon, first.lat,
                                 {"side": "official", "members": members}))
    for group in osm_duplicates:
        first = run.osm[group[0]]
        found.append(Problem(DUPLICATES, 2, None, first.key, first.lon, first.lat,
                             {"side": "osm", "members": [run.osm[j].key for j in group]}))
    return found


def _pair_problems(run, match) -> Iterable[Problem]:
    p = run.profile
    official = run.official[run.o_index[match.official_id]]
    j = run.s_index[match.osm_key]
    stop = run.osm[j]
    at = (match.official_id, match.osm_key, official.lon, official.lat)
    if match.distance_m > p.too_far_m:
        priority = 1 if match.distance_m > p.too_far_high_m else 2
        yield Problem(TOO_FAR, priority, *at,
                      {"distance_m": match.distance_m, "method": match.method})
    if match.stage == "propagation":
        return  # its attributes are those of the pair it came from
    name_a, name_b = run.o_name[run.o_index[match.official_id]], run.s_name[j]
    if name_a and name_b:
        similarity = names.name_similarity(name_a, name_b)
        if similarity < p.name_mismatch_below:
            yield Problem(ATTRIBUTE_MISMATCH, 2, *at,
                          {"attribute": "name", "official": official.name, "osm": stop.name,
                           "similarity": round(similarity, 1)})
    code_a, code_b = run.o_plat[run.o_index[match.official_id]], run.s_plat[j]
    if code_a and code_b and code_a != code_b:
        yield Problem(ATTRIBUTE_MISMATCH, 2, *at,
                      {"attribute": "platform_code", "official": official.platform_code,
                       "osm": stop.local_ref or stop.ref or stop.name})
    if official.operator and stop.operator:
        spelled = [official.operator, official.extra.get("operator_name", "")]
        similarity = max(fuzz.token_set_ratio(names.fold(x), names.fold(stop.operator))
                         for x in spelled if x)
        if similarity < p.operator_mismatch_below:
            yield Problem(ATTRIBUTE_MISMATCH, 3, *at,
                          {"attribute": "operator", "official": official.operator,
                           "osm": stop.operator, "similarity": round(similarity, 1)})


def _unmatched_official(run, unmatched: list[int], free_osm: list[int]) -> Iterable[Problem]:
    if not unmatched:
        return
    nearest: dict[int, list[dict]] = defaultdict(list)
    # candidate pairs are sorted by official stop, nearest first
    for k in np.nonzero(np.isin(run.pi, unmatched))[0].tolist():
        i = int(run.pi[k])
        if len(nearest[i]) < _NEAREST_SHOWN:
            sim = run.psim[k]
            nearest[i].append({"osm": run.osm[int(run.pj[k])].key,
                               "distance_m": round(float(run.pd[k]), 1),
                               "name_similarity": None if math.isnan(sim) else round(sim, 1)})
    renamed = renames.suggest(run, unmatched, free_osm)
    for i in unmatched:
        stop = run.official[i]
        evidence = {"name": stop.name, "nearest": nearest.get(i, [])}
        if i in run.refused:
            evidence["refused"] = run.refused[i]  # candidates the ratio test found ambiguous
        if i in renamed:
            evidence["renamed_candidate"] = renamed[i]  # a pair for a reviewer to accept
        yield Problem(UNMATCHED_OFFICIAL, 1, stop.stop_id, None, stop.lon, stop.lat, evidence)


def grid_area(problem: Problem, cell_degrees: float = 0.1) -> str:
    """A default area for statistics: the grid cell (south-west corner) of the problem."""
    if problem.lat is None or problem.lon is None:
        return "unknown"
    lat = math.floor(problem.lat / cell_degrees) * cell_degrees
    lon = math.floor(problem.lon / cell_degrees) * cell_degrees
    return f"{lat:.2f},{lon:.2f}"


def problem_statistics(problems: Iterable[Problem],
                       area_of: Callable[[Problem], str] = grid_area) -> dict:
    """Counts per type, per type and priority, and per area and type."""
    by_type: Counter = Counter()
    by_priority: Counter = Counter()
    by_area: dict[str, Counter] = defaultdict(Counter)
    for problem in problems:
        by_type[problem.type] += 1
        by_priority[f"{problem.type}:{problem.priority}"] += 1
        by_area[area_of(problem)][problem.type] += 1
    return {"by_type": dict(by_type), "by_type_and_priority": dict(by_priority),
            "by_area": {area: dict(c) for area, c in sorted(by_area.items())}}
