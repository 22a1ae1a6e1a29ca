"""OSM stops made of several objects (platform and stop_position of one stop), registry
duplicates, and the propagation of matches to both."""

from __future__ import annotations

import numpy as np

from matching_and_import_db.transit import names
from matching_and_import_db.transit.spatial import pairs_within


def group_pairs(run) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pairs of distinct OSM stops within group_radius_m: (a, b, metres), sorted by a."""
    if run.osm_neighbours is None:
        gi, gj, gd = pairs_within(run.s_lon, run.s_lat, run.s_lon, run.s_lat,
                                  run.profile.group_radius_m, run.projection)
        keep = gi != gj
        run.osm_neighbours = gi[keep], gj[keep], gd[keep]
    return run.osm_neighbours


def _neighbours(gi: np.ndarray, gj: np.ndarray, a: int) -> list[int]:
    """OSM stops near stop a, nearest first (gi is sorted)."""
    left, right = np.searchsorted(gi, a, "left"), np.searchsorted(gi, a, "right")
    return gj[left:right].tolist()


def _nearest_platforms(run) -> dict[int, int]:
    """For each stop_position (or station): the nearest platform within group_radius_m."""
    gi, gj, gd = group_pairs(run)
    mask = run.s_primary[gi] & ~run.s_primary[gj]
    a, b, d = gi[mask], gj[mask], gd[mask]
    order = np.lexsort((d, b))
    first = np.ones(len(order), bool)
    first[1:] = b[order][1:] != b[order][:-1]
    return dict(zip(b[order][first].tolist(), a[order][first].tolist(), strict=True))


def _same_stop(run, a: int, b: int) -> bool:
    """Whether two nearby OSM objects are parts of one stop: same uic_ref, or same name."""
    sa, sb = run.osm[a], run.osm[b]
    if sa.uic_ref and sb.uic_ref:
        return sa.uic_ref.strip() == sb.uic_ref.strip()
    na, nb = run.s_name[a], run.s_name[b]
    return not nb or names.name_similarity(na, nb) >= run.profile.name_accept


def propagate_to_members(run) -> None:
    """A matched platform passes its official stop on to the stop_position beside it: one
    with the same platform code, or, without codes, the one whose nearest platform it is."""
    gi, gj, _ = group_pairs(run)
    nearest_platform = _nearest_platforms(run)
    for match in list(run.matches):
        if match.stage == "propagation":
            continue
        oi, a = run.o_index[match.official_id], run.s_index[match.osm_key]
        if not run.s_primary[a]:
            continue
        for b in _neighbours(gi, gj, a):
            if run.s_primary[b] or not run.s_free[b] or (oi, b) in run.rejected:
                continue
            if not _same_stop(run, a, b):
                continue
            codes = run.s_plat[a], run.s_plat[b]
            if any(codes) and codes[0] != codes[1]:
                continue
            if not any(codes) and nearest_platform.get(b) != a:
                continue
            run.add(oi, b, "osm_group_propagation", "propagation", match.score,
                    {"from_osm": match.osm_key}, take_official=False)


def official_duplicates(run) -> list[list[int]]:
    """Registry stops with the same name, platform code (and uic_ref) at one place."""
    p = run.profile
    ia, ib, _ = pairs_within(run.o_lon, run.o_lat, run.o_lon, run.o_lat,
                             p.duplicate_radius_m, run.projection)
    parent = list(range(len(run.official)))

    def root(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in zip(ia.tolist(), ib.tolist(), strict=True):
        oa, ob = run.official[a], run.official[b]
        if (a < b and run.o_name[a] and run.o_name[a] == run.o_name[b]
                and run.o_plat[a] == run.o_plat[b]
                and (not (oa.uic_ref and ob.uic_ref) or oa.uic_ref == ob.uic_ref)):
            parent[root(b)] = root(a)
    groups: dict[int, list[int]] = {}
    for i in range(len(run.official)):
        groups.setdefault(root(i), []).append(i)
    return [g for g in groups.values() if len(g) > 1]


def propagate_to_duplicates(run, duplicates: list[list[int]], held: set[int]) -> None:
    """A registry duplicate still held gets the OSM stop of its group's first stop."""
    for first, *others in duplicates:
        targets = run.matched_osm.get(first)
        if not targets:
            continue
        target = next((j for j in targets if run.s_primary[j]), targets[0])
        for oi in others:
            if oi in held and (oi, target) not in run.rejected:
                run.add(oi, target, "duplicate_propagation", "propagation", 1.0,
                        {"duplicate_of": run.official[first].stop_id})


def effectively_matched(run, matched: np.ndarray) -> set[int]:
    """Unmatched OSM objects that belong to a matched OSM stop (same uic_ref or name)."""
    gi, gj, _ = group_pairs(run)
    near = matched[gi] & ~matched[gj]
    return {b for a, b in zip(gi[near].tolist(), gj[near].tolist(), strict=True)
            if (run.osm[b].uic_ref or run.s_name[b]) and _same_stop(run, a, b)}


def osm_duplicates(run) -> list[list[int]]:
    """OSM stops of one kind, name and platform code within duplicate_radius_m."""
    gi, gj, gd = group_pairs(run)
    close = (gi < gj) & (gd <= run.profile.duplicate_radius_m)
    seen: dict[int, list[int]] = {}
    for a, b in zip(gi[close].tolist(), gj[close].tolist(), strict=True):
        if (run.s_name[a]
                and run.osm[a].kind == run.osm[b].kind and run.s_name[a] == run.s_name[b]
                and run.s_plat[a] == run.s_plat[b]):
            group = seen.get(a) or seen.get(b) or []
            for x in (a, b):
                if x not in group:
                    group.append(x)
                seen[x] = group
    unique = {id(g): g for g in seen.values()}
    return [sorted(g) for g in unique.values()]
