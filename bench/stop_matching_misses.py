"""bench/stop_matching_misses: why the matcher misses stops of the real cases (ids hidden).

A diagnostic, not a benchmark: for each case of bench/real_stop_cases (or those named),
every stop of the truth that is not found is put in one class, and the classes are counted:

  no_candidate      no true OSM object within the candidate radius with a compatible mode
  name_differs      the true object's best name scores under 60 (renamed, or unnamed)
  weak_name         ...under 85
  wrong_match       matched, but to an object known to be another stop's
  twin_both_true    another coded row of the same name and mode lies within 3 m: the
                    registry puts two platforms at one spot, nothing but a direction of
                    travel (where the registry gives one) tells them apart
  twin_superseded   ...another row, nobody coded, lies there (a copy not followed)
  refused           the assignment refused a near tie (evidence: ambiguous_with)
  other             none of these

  .venv/bin/python bench/stop_matching_misses.py [case ...] [--list N]

prints the counts per case and, with --list, the first N stops of each class with the
registry's name and the true objects' names.

ceiling() gives, for bench/stop_matching, the recall no matcher can pass without guessing
on what it is shown (names, positions, modes, directions of travel), whatever its choices:
  beyond_name_evidence     no true object's name scores name_weak or more (renamed or
                           unnamed): the issue rules out pairs without name evidence
  indistinguishable_twins  another coded row of the same name and mode, not travelled the
                           opposite way, lies within TWIN_M (3 m) and has other true
                           objects: the two rows are the same input, so which is which is a
                           coin flip
Both are measured with the matcher's own name scores, so a better name scorer could lift
the first. The other misses are not ruled out by the inputs alone, but many are near ties
all the same: a terminal's rows in a line beside its evenly spaced platforms, pairs the
truth has the other way round from where they lie, superseded quays nearer the platform
than their coded successors.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from real_stop_cases import CASES  # noqa: E402

import matching_and_import_db.stops.matching as matching  # noqa: E402
from matching_and_import_db.stops import sides  # noqa: E402
from matching_and_import_db.stops.spatial import pairs_within  # noqa: E402

TWIN_M = 3.0


def run_of(case):
    """The matcher's result and its internal run (candidates, refusals)."""
    runs = []

    class Recording(matching._Run):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            runs.append(self)

    original, matching._Run = matching._Run, Recording
    try:
        result = matching.match_stops(case.official, case.osm_hidden)
    finally:
        matching._Run = original
    return result, runs[0]


def same_spot_rows(run) -> dict[int, list[int]]:
    """For each registry row, the other rows of its name and mode within TWIN_M of it."""
    ia, ib, _ = pairs_within(run.o_lon, run.o_lat, run.o_lon, run.o_lat, TWIN_M,
                             run.projection)
    out: dict[int, list[int]] = defaultdict(list)
    for a, b in zip(ia.tolist(), ib.tolist(), strict=True):
        if (a != b and run.o_name[a] == run.o_name[b]
                and run.official[a].mode == run.official[b].mode):
            out[a].append(b)
    return out


def classify(case) -> dict[str, list[tuple[str, str | None, list]]]:
    result, run = run_of(case)
    got = defaultdict(set)
    for official_id, key in result.pairs():
        if key in case.judgeable:
            got[official_id].add(key)
    by_official = defaultdict(list)
    for k, oi in enumerate(run.pi.tolist()):
        by_official[oi].append(k)
    classes: dict[str, list] = defaultdict(list)
    same_spot = same_spot_rows(run)
    for stop_id, keys in case.truth.items():
        if got[stop_id] and got[stop_id] <= keys:
            continue
        oi = run.o_index[stop_id]
        o = run.official[oi]
        ks = [k for k in by_official[oi] if run.osm[run.pj[k]].key in keys]
        best = max((float(np.nan_to_num(run.psim[k], nan=-1.0)) for k in ks), default=None)
        twins = same_spot[oi]
        if not ks:
            kind = "no_candidate"
        elif best < run.profile.name_weak:
            kind = "name_differs"
        elif got[stop_id]:
            kind = "wrong_match"
        elif any(run.official[x].stop_id in case.truth for x in twins):
            kind = "twin_both_true"
        elif twins:
            kind = "twin_superseded"
        elif oi in run.refused:
            kind = "refused"
        elif best < run.profile.name_accept:
            kind = "weak_name"
        else:
            kind = "other"
        names = [run.osm[run.s_index[key]].name for key in sorted(keys)]
        classes[kind].append((stop_id, o.name, names))
    return classes


def ceiling(case, result, run) -> dict:
    """The recall a matcher can reach on the case without guessing (see the docstring),
    and the stops that keep it below 1. A stop without name evidence of its own that the
    matcher found all the same (a row following another row of its stop code) does not
    count against it."""
    p = run.profile
    # the candidates before the kerb side drops any: a matcher without that rule could
    # take them (here only incompatible modes and the radius keep pairs out)
    every = matching._Run(run.official, run.osm,
                          dataclasses.replace(p, kerb_side_min_rows=len(run.official) + 1))
    named: set[int] = set()  # rows with a true object whose name supports the pair
    for k in np.nonzero(np.nan_to_num(every.psim, nan=-1.0) >= p.name_weak)[0].tolist():
        oi, sj = int(every.pi[k]), int(every.pj[k])
        if run.osm[sj].key in case.truth.get(run.official[oi].stop_id, ()):
            named.add(oi)
    found = {o for o, key in result.pairs() if key in case.truth.get(o, ())}
    coded = [run.o_index[stop_id] for stop_id in case.truth]
    beyond = [oi for oi in coded if oi not in named and run.official[oi].stop_id not in found]
    bearing = sides.bearings(run.official)
    same_spot = same_spot_rows(run)
    twins = [oi for oi in coded if oi in named and any(
        run.official[x].stop_id in case.truth
        and not case.truth[run.official[x].stop_id] & case.truth[run.official[oi].stop_id]
        and not sides.opposite(bearing[oi], bearing[x]) for x in same_spot[oi])]
    stops = max(len(case.truth), 1)
    return {"ceiling_recall": round(1.0 - (len(beyond) + len(twins)) / stops, 4),
            "beyond_name_evidence": len(beyond), "indistinguishable_twins": len(twins)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("cases", nargs="*", default=list(CASES))
    parser.add_argument("--list", type=int, default=0, help="stops listed per class")
    args = parser.parse_args()
    for name in args.cases:
        case = CASES[name]()
        classes = classify(case)
        counts = Counter({kind: len(stops) for kind, stops in classes.items()})
        print(f"{name}: {sum(counts.values())} of {len(case.truth)} missed: "
              f"{dict(counts.most_common())}")
        for kind, stops in classes.items():
            for stop_id, official_name, osm_names in stops[:args.list]:
                print(f"  {kind:<16} {stop_id:<18} {official_name!r} -> {osm_names}")


if __name__ == "__main__":
    main()
