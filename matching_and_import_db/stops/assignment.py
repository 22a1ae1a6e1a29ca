"""Choosing pairs among scored candidates: mutual best, optimal one-to-one assignment, and
the ratio test that keeps an ambiguous nearest candidate from being taken blindly.

Candidates are given as indices k into parallel arrays pi (official), pj (OSM), score.

SciPy (about 50 MB in a process) is imported where it is used: the web app imports the
matcher for its profile (stops.review) but never matches.
"""

from __future__ import annotations

import numpy as np


def _best_and_runner_up(group: np.ndarray, score: np.ndarray,
                        idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each group among the candidates idx: its best candidate, and the runner-up's
    score (-inf without one)."""
    order = np.lexsort((-score[idx], group[idx]))
    ranked = idx[order]
    g = group[ranked]
    first = np.ones(len(g), bool)
    first[1:] = g[1:] != g[:-1]
    starts = np.nonzero(first)[0]
    after = starts + 1
    has_second = after < len(g)
    has_second[has_second] = g[after[has_second]] == g[starts[has_second]]
    runner_up = np.full(len(starts), -np.inf)
    runner_up[has_second] = score[ranked[after[has_second]]]
    return ranked[starts], runner_up


def best_mutual_unambiguous(idx: np.ndarray, pi: np.ndarray, pj: np.ndarray,
                            score: np.ndarray, margin: float) -> list[int]:
    """Candidates that are the best of their official stop and of their OSM stop, each by
    more than `margin` over the runner-up on that side."""
    if len(idx) == 0:
        return []
    best_o, runner_o = _best_and_runner_up(pi, score, idx)
    best_s, runner_s = _best_and_runner_up(pj, score, idx)
    clear_o = best_o[score[best_o] - runner_o > margin]
    clear_s = set(best_s[score[best_s] - runner_s > margin].tolist())
    return [int(k) for k in clear_o if int(k) in clear_s]


def assign_one_to_one(idx: np.ndarray, pi: np.ndarray, pj: np.ndarray, score: np.ndarray,
                      max_component: int) -> tuple[list[int], dict[int, int]]:
    """The one-to-one choice of candidates with the highest total score, solved separately
    for each cluster of stops connected by candidates (clusters are small: stops only
    compete with neighbours). Clusters above max_component are taken greedily."""
    from scipy.optimize import linear_sum_assignment
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    if len(idx) == 0:
        return [], {}
    officials, o_local = np.unique(pi[idx], return_inverse=True)
    osm, s_local = np.unique(pj[idx], return_inverse=True)
    n_o = len(officials)
    graph = coo_matrix((np.ones(len(idx)), (o_local, s_local + n_o)),
                       shape=(n_o + len(osm), n_o + len(osm)))
    _, label = connected_components(graph, directed=False)
    pair_label = label[o_local]
    order = np.argsort(pair_label, kind="stable")
    bounds = np.nonzero(np.diff(pair_label[order]))[0] + 1
    chosen: list[int] = []
    sizes: dict[int, int] = {}
    for part in np.split(order, bounds):
        ks = idx[part]
        if len(ks) == 1:
            picked = [int(ks[0])]
        else:
            rows, r_local = np.unique(pi[ks], return_inverse=True)
            cols, c_local = np.unique(pj[ks], return_inverse=True)
            if max(len(rows), len(cols)) > max_component:
                picked = _greedy(ks, pi, pj, score)
            else:
                # non-candidates cost far more than any real pair, so they are only used
                # where nothing else fits, and then dropped
                cost = np.full((len(rows), len(cols)), 1e6)
                cost[r_local, c_local] = 2.0 - score[ks]
                where = np.full((len(rows), len(cols)), -1)
                where[r_local, c_local] = ks
                r, c = linear_sum_assignment(cost)
                picked = [int(where[a, b]) for a, b in zip(r, c, strict=True)
                          if where[a, b] >= 0]
        chosen.extend(picked)
        sizes.update(dict.fromkeys(picked, len(ks)))
    return chosen, sizes


def _greedy(ks: np.ndarray, pi: np.ndarray, pj: np.ndarray, score: np.ndarray) -> list[int]:
    used_o, used_s, picked = set(), set(), []
    for k in ks[np.argsort(-score[ks], kind="stable")]:
        o, s = int(pi[k]), int(pj[k])
        if o not in used_o and s not in used_s:
            used_o.add(o)
            used_s.add(s)
            picked.append(int(k))
    return picked


def passes_ratio_test(chosen: list[int], candidates: np.ndarray, run, profile,
                      ) -> list[tuple[bool, dict]]:
    """For each chosen pair: is it clearly better than the alternatives, on both sides?

    A free rival (a candidate the assignment left unused) is harmless when it is `ratio`
    times farther (and min_separation_m farther), or its name is name_margin less similar,
    or its platform code differs where the chosen one's agrees. A rival taken by another
    chosen pair is harmless when swapping the two pairs is clearly worse by the same
    measures: the assignment must not decide a near tie between two stops of one name.
    Where no swap exists (the other pair's row has no pair with this one's stop), the rival
    is judged as if it were free: the assignment matches as many rows as it can, and must
    not push a row onto a far platform to give its near one to a row that is far from it.
    """
    taken_o = {int(run.pi[k]): k for k in chosen}
    taken_s = {int(run.pj[k]): k for k in chosen}
    by_o: dict[int, list[int]] = {}
    by_s: dict[int, list[int]] = {}
    pair_of: dict[tuple[int, int], int] = {}
    for k in candidates.tolist():
        o, s = int(run.pi[k]), int(run.pj[k])
        by_o.setdefault(o, []).append(k)
        by_s.setdefault(s, []).append(k)
        pair_of[(o, s)] = k
    results = []
    for k in chosen:
        o, s = int(run.pi[k]), int(run.pj[k])
        close = []
        for c in by_o[o]:  # other OSM stops for this official stop
            other = int(run.pj[c])
            if c == k:
                continue
            if other not in taken_s:
                worse = _clearly_worse(run, profile, [k], [c])
            else:  # swap with the pair that took it: (o, other) and (its official, s)
                k2 = taken_s[other]
                worse = _swap_clearly_worse(run, profile, k, k2, c,
                                            pair_of.get((int(run.pi[k2]), s)))
            if not worse:
                close.append(run.osm[other].key)
        for c in by_s[s]:  # other official stops for this OSM stop
            other = int(run.pi[c])
            if c == k:
                continue
            if other in taken_o:
                # a swap of two chosen pairs is judged by the loop above (it is the same
                # swap); left is a rival row that holds a stop this row has no pair with
                if (o, int(run.pj[taken_o[other]])) in pair_of:
                    continue
            if not _clearly_worse(run, profile, [k], [c]):
                close.append(run.official[other].stop_id)
        rivals = [run.pd[c] for c in by_o[o] + by_s[s] if c != k]
        evidence = {"nearest_alternative_m": round(float(min(rivals)), 1) if rivals else None}
        if close:
            evidence.update(ambiguous_with=sorted(set(close)), candidate=run.osm[s].key)
        results.append((not close, evidence))
    return results


def _swap_clearly_worse(run, profile, k: int, k2: int, c: int, c2: int | None) -> bool:
    """Whether giving pair k's stop its rival c, and the pair k2 that holds c's other stop
    the stop k frees (c2), is clearly worse. Without a pair c2 the swap leaves k2's row
    unmatched: then c is judged against k alone, as if free. The assignment matches as many
    rows as it can, so it may push a row 90 m away to give its near platform to a row 40 m
    from it that has nothing else; that must not pass as clear."""
    if c2 is None:
        return _clearly_worse(run, profile, [k], [c])
    return _clearly_worse(run, profile, [k, k2], [c, c2])


def _clearly_worse(run, profile, chosen: list[int], rival: list[int]) -> bool:
    """Whether the rival pair(s) are clearly worse than the chosen pair(s), compared as
    totals: by distance, by names, or by platform codes."""
    d1, d2 = float(run.pd[chosen].sum()), float(run.pd[rival].sum())
    if d2 >= max(profile.ratio * d1, d1 + profile.min_separation_m):
        return True
    s1, s2 = run.psim[chosen], run.psim[rival]
    if not np.isnan(s1).any():
        if np.isnan(s2).any() and (s1 >= profile.name_accept).all():
            return True  # the same name is evidence; an unnamed rival (often an untagged
            # outline of the same platform) has none
        if not np.isnan(s2).any() and s1.sum() - s2.sum() >= profile.name_margin:
            return True
    return bool((run.pplat[chosen] > 0).any() and (run.pplat[rival] < 0).any())
