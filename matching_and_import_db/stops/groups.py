"""OSM stops made of several objects (platform and stop_position of one stop), registry
duplicates, and the propagation of matches to both."""

from __future__ import annotations

import numpy as np

from matching_and_import_db.geodesy import great_circle_m, great_circle_one_m
from matching_and_import_db.stops import names, sides
from matching_and_import_db.stops.modes import MODES, masks_serve, modes_compatible, serves
from matching_and_import_db.stops.spatial import pairs_within


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
            if not serves(run.s_modes[b], run.official[oi].mode) or (
                    run.s_modes[a] and run.s_modes[b] and not run.s_modes[a] & run.s_modes[b]):
                continue  # a bus platform's neighbour may be the metro's stop position
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
    """Registry stops with the same name, platform code (and uic_ref) at one place; rows
    of different modes count as one stop up to shared_stop_radius_m apart (a registry that
    lists a bus and tram stop once per mode: both are the one OSM platform). Rows the
    registry gives one stop code (extra "stop_code", the code on the sign) within
    candidate_radius_m are one stop by the registry's own word (HSL lists some poles twice,
    once per mode or once per period, with one code)."""
    p = run.profile
    parent = list(range(len(run.official)))

    def root(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in _same_stop_code(run):
        parent[root(b)] = root(a)
    ia, ib, d = pairs_within(run.o_lon, run.o_lat, run.o_lon, run.o_lat,
                             max(p.duplicate_radius_m, p.shared_stop_radius_m), run.projection)
    modes = [o.mode for o in run.official]
    # stop places of two modes are two places, each taking its part of the OSM group
    differ = np.array([bool(modes[a] and modes[b] and modes[a] != modes[b])
                       for a, b in zip(ia.tolist(), ib.tolist(), strict=True)], bool)
    platforms = ~run.o_place[ia] & ~run.o_place[ib]
    near = np.where(differ, platforms, d <= p.duplicate_radius_m)
    ia, ib = ia[near], ib[near]
    # quays where vehicles travel opposite ways are the two directions of a stop, however
    # close the registry puts them
    bearing = sides.bearings(run.official)
    for a, b in zip(ia.tolist(), ib.tolist(), strict=True):
        oa, ob = run.official[a], run.official[b]
        if (a < b and run.o_name[a] and run.o_name[a] == run.o_name[b]
                and run.o_plat[a] == run.o_plat[b]
                and (not (oa.uic_ref and ob.uic_ref) or oa.uic_ref == ob.uic_ref)
                and not sides.opposite(bearing[a], bearing[b])):
            parent[root(b)] = root(a)
    groups: dict[int, list[int]] = {}
    for i in range(len(run.official)):
        groups.setdefault(root(i), []).append(i)
    return [g for g in groups.values() if len(g) > 1]


def _same_stop_code(run) -> list[tuple[int, int]]:
    """Pairs of registry rows with one stop code, within candidate_radius_m of each other."""
    by_code: dict[str, list[int]] = {}
    for i, o in enumerate(run.official):
        code = (o.extra.get("stop_code") or "").strip()
        if code:
            by_code.setdefault(code, []).append(i)
    pairs = []
    for rows in by_code.values():
        for b in rows[1:]:
            a, ob = rows[0], run.official[b]
            oa = run.official[a]
            if great_circle_one_m(oa.lon, oa.lat, ob.lon, ob.lat) <= run.profile.candidate_radius_m:
                pairs.append((a, b))
    return pairs


def _stop_code(run, i: int) -> str:
    return (run.official[i].extra.get("stop_code") or "").strip()


def _one_stop_code(run, group: list[int]) -> bool:
    return bool(_stop_code(run, group[0])) and all(
        _stop_code(run, i) == _stop_code(run, group[0]) for i in group)


def one_platform(run, group: list[int]) -> bool:
    """Whether registry duplicates are known to be one platform, so that the others follow
    the first's match: they share a stop code, a platform code or a uic_ref, or differ
    only in mode, or the registry has more rows of that name around than OSM platforms.
    Rows that only share a name and a spot may be different platforms (two quays the
    registry puts at one position): then each is matched on its own."""
    first = run.official[group[0]]
    if _one_stop_code(run, group):
        return True
    if all(run.o_plat[i] and run.o_plat[i] == run.o_plat[group[0]] for i in group):
        return True
    if first.uic_ref and all(run.official[i].uic_ref == first.uic_ref for i in group):
        return True
    modes = {run.official[i].mode for i in group}
    if None not in modes and len(modes) == len(group):
        return True
    return _more_rows_than_platforms(run, group)


def _more_rows_than_platforms(run, group: list[int]) -> bool:
    """Whether rows sharing a name and a spot are copies of one platform: the registry has
    more rows of that name and mode around the spot (within stop_group_radius_m) than OSM
    has platforms of that name. Ruter keeps superseded quays beside their successors (at
    Bislett six rows for two platforms); where the counts agree (two quays at one
    position, one platform each side of the street) each row is matched on its own."""
    p = run.profile
    if run.o_by_name is None:
        run.o_by_name = {}
        for i, name in enumerate(run.o_name):
            if name:
                run.o_by_name.setdefault(name, []).append(i)
    first = group[0]
    o = run.official[first]
    same = np.array(run.o_by_name.get(run.o_name[first], []))
    same = same[[run.official[i].mode == o.mode for i in same.tolist()]]
    rows = int((great_circle_m(o.lon, o.lat, run.o_lon[same], run.o_lat[same])
                <= p.stop_group_radius_m).sum())
    ks = np.nonzero(run.pi == first)[0]
    ks = ks[run.s_primary[run.pj[ks]] & (run.pd[ks] <= p.stop_group_radius_m)
            & (np.nan_to_num(run.psim[ks], nan=0.0) >= p.name_accept)]
    # a platform mapped as a node and as an outline is one platform
    nodes = run.s_node[run.pj[ks]]
    return rows > max(len(set(run.pj[ks[nodes]].tolist())),
                      len(set(run.pj[ks[~nodes]].tolist())))


def followers(run, group: list[int]) -> list[int]:
    """The rows of a group of registry duplicates that follow another's match: all but the
    one whose nearest OSM stop with a name that supports it is the clearest choice (the
    farthest ahead of the next; a stop listed once per mode is often best placed in the
    row of the mode with its own platform). Duplicates by name and spot only: the first."""
    if not any(_stop_code(run, i) for i in group):
        return group[1:]  # any row at that spot is as good as the first
    from matching_and_import_db.stops.matching import name_supported

    supported = name_supported(run) & (run.pplat >= 0)
    nearest = {}
    for oi in group:
        ks = np.nonzero(supported & (run.pi == oi))[0]
        d = np.sort(run.pd[ks])
        # how many times nearer its nearest candidate is than the next: the clearest row
        # leads
        nearest[oi] = (-d[1] / max(d[0], 1.0) if len(d) > 1
                       else (-np.inf if len(d) else np.inf))
    lead = min(group, key=lambda oi: (nearest[oi], group.index(oi)))
    return [oi for oi in group if oi != lead]


def propagate_to_duplicates(run, duplicates: list[list[int]], held: set[int]) -> None:
    """A registry duplicate still held gets the OSM stop of its group's first matched
    stop."""
    for group in duplicates:
        first = next((oi for oi in group if run.matched_osm.get(oi) and oi not in held), None)
        if first is None:
            continue
        targets = run.matched_osm[first]
        target = next((j for j in targets if run.s_primary[j]), targets[0])
        # rows the registry gives one stop code are one pole by its own word (HSL lists a
        # shared stop once per network): the bus row follows onto a tram_stop, as bus and
        # tram are compatible. Rows only of one name at one spot follow strictly: the tram
        # row of a shared stop does not follow onto a bus-only platform
        fits = modes_compatible if _one_stop_code(run, group) else serves
        for oi in group:
            if (oi in held and (oi, target) not in run.rejected
                    and fits(run.s_modes[target], run.official[oi].mode)):
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


# --- OSM stop groups and stop places -----------------------------------------------------

def stop_groups(run) -> np.ndarray:
    """The OSM stop group of every OSM object (an array of group numbers): the members of
    one stop_area relation, and objects of the same name and mode within
    stop_group_radius_m of each other (the platforms of both directions, their stop
    positions, the station). Unnamed objects join only through a stop_area."""
    if run.s_group is not None:
        return run.s_group
    n = len(run.osm)
    parent = list(range(n))

    def root(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    by_area: dict[int, int] = {}
    for j, stop in enumerate(run.osm):
        for area in stop.stop_areas:
            first = by_area.setdefault(area, j)
            parent[root(j)] = root(first)
    gi, gj, _ = pairs_within(run.s_lon, run.s_lat, run.s_lon, run.s_lat,
                             run.profile.stop_group_radius_m, run.projection)
    keep = gi < gj
    for a, b in zip(gi[keep].tolist(), gj[keep].tolist(), strict=True):
        na, nb = run.s_name[a], run.s_name[b]
        if not na or not nb or root(a) == root(b):
            continue
        ma, mb = run.s_modes[a], run.s_modes[b]
        if ma and mb and not ma & mb:  # a bus stop and a tram stop of one name: two stops
            continue
        if na == nb or names.name_similarity(na, nb) >= run.profile.name_accept:
            parent[root(b)] = root(a)
    run.s_group = np.array([root(j) for j in range(n)], np.int64)
    return run.s_group


def match_places(run) -> None:
    """Each free stop place (an official row of level "place") takes one OSM stop group,
    chosen one to one among the groups with a member near it whose name agrees; the place
    is then matched to every free member of that group that serves its mode (a bus stop
    place and a tram stop place of one name each take their own part of a shared group)."""
    if not run.o_place.any():
        return
    from matching_and_import_db.stops.assignment import assign_one_to_one
    from matching_and_import_db.stops.matching import name_supported

    group = stop_groups(run)
    mode_index = {mode: n for n, mode in enumerate((None, *MODES))}
    place_mode = np.array([mode_index.get(o.mode, 0) for o in run.official])
    serving = masks_serve(run.s_mode_mask[run.pj], run.o_mode_mask[run.pi])
    usable = (run.o_place[run.pi] & run.o_free[run.pi] & run.s_free[run.pj] & serving
              & ~run.p_rejected & name_supported(run) & (run.pplat >= 0))
    ks = np.nonzero(usable)[0]
    if not len(ks):
        return
    # what the assignment pairs places with: a group as seen by one mode
    column = group[run.pj] * len(mode_index) + place_mode[run.pi]
    # one candidate per (place, group): its nearest well-named member
    g = column[ks]
    order = np.lexsort((run.pd[ks], -np.nan_to_num(run.psim[ks], nan=0.0), g, run.pi[ks]))
    ks, g = ks[order], g[order]
    first = np.ones(len(ks), bool)
    first[1:] = (run.pi[ks][1:] != run.pi[ks][:-1]) | (g[1:] != g[:-1])
    chosen, _ = assign_one_to_one(ks[first], run.pi, column, run.pscore,
                                  run.profile.max_component)
    members: dict[int, list[int]] = {}
    for j, label in enumerate(group.tolist()):
        members.setdefault(label, []).append(j)
    places_of: dict[int, list[int]] = {}  # group -> the places (of several modes) taking it
    for k in chosen:
        places_of.setdefault(int(group[run.pj[k]]), []).append(int(run.pi[k]))
    by_place: dict[int, int] = {}  # OSM object -> the place that took it here
    for k in chosen:
        oi, nearest = int(run.pi[k]), int(run.pj[k])
        mode = run.official[oi].mode
        label = int(group[nearest])
        # an object whose tags name no mode goes to the nearest of the places sharing it
        taken = [j for j in members[label] if serves(run.s_modes[j], mode)
                 and (run.s_modes[j] or _nearest_place(run, j, places_of[label]) == oi)]
        evidence = {"group_of": run.osm[nearest].key, "name_similarity":
                    None if np.isnan(run.psim[k]) else round(float(run.psim[k]), 1),
                    "official_name": run.official[oi].name,
                    "osm_name": run.osm[nearest].name, "members": len(taken)}
        for j in sorted(taken, key=lambda m: m != nearest):
            # an object tagged for this mode and another, taken by the other mode's place
            # here, is one platform of both (a bus and tram stop HSL lists as two places)
            shared = (j in by_place and run.official[by_place[j]].mode != mode
                      and bool(run.s_modes[j]))
            if (run.s_free[j] or shared) and (oi, j) not in run.rejected:
                run.add(oi, j, "stop_place_group", "group", run.pscore[k], evidence)
                by_place.setdefault(j, oi)


def _nearest_place(run, j: int, places: list[int]) -> int:
    s = run.osm[j]
    return min(places, key=lambda oi: great_circle_one_m(run.official[oi].lon,
                                                      run.official[oi].lat, s.lon, s.lat))
