"""bench/stop_matching_misses: why the matcher misses stops of the real cases (ids hidden).

A diagnostic, not a benchmark: for each case of bench/real_stop_cases (or those named),
every stop of the truth that is not found is put in one class, and the classes are counted:

  no_candidate      no true OSM object within the candidate radius with a compatible mode
  name_differs      the true object's best name scores under 60 (renamed, or unnamed)
  weak_name         ...under 85
  wrong_match       matched, but to an object known to be another stop's
  twin_both_true    another coded row of the same name and mode lies within 3 m: the
                    registry puts two platforms at one spot, nothing tells them apart
  twin_superseded   ...another row, nobody coded, lies there (a copy not followed)
  refused           the assignment refused a near tie (evidence: ambiguous_with)
  other             none of these

  .venv/bin/python bench/stop_matching_misses.py [case ...] [--list N]

prints the counts per case and, with --list, the first N stops of each class with the
registry's name and the true objects' names.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from real_stop_cases import CASES  # noqa: E402

import matching_and_import_db.stops.matching as matching  # noqa: E402
from matching_and_import_db.geodesy import great_circle_m  # noqa: E402

TWIN_M = 3.0


def _run_of(case):
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


def classify(case) -> dict[str, list[tuple[str, str | None, list]]]:
    result, run = _run_of(case)
    got = defaultdict(set)
    for official_id, key in result.pairs():
        if key in case.judgeable:
            got[official_id].add(key)
    by_official = defaultdict(list)
    for k, oi in enumerate(run.pi.tolist()):
        by_official[oi].append(k)
    classes: dict[str, list] = defaultdict(list)
    for stop_id, keys in case.truth.items():
        if got[stop_id] and got[stop_id] <= keys:
            continue
        oi = run.o_index[stop_id]
        o = run.official[oi]
        ks = [k for k in by_official[oi] if run.osm[run.pj[k]].key in keys]
        best = max((float(np.nan_to_num(run.psim[k], nan=-1.0)) for k in ks), default=None)
        twins = [x for x, other in enumerate(run.official)
                 if x != oi and run.o_name[x] == run.o_name[oi] and other.mode == o.mode
                 and great_circle_m(o.lon, o.lat, other.lon, other.lat) <= TWIN_M]
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
