"""The first stages: people's decisions, then identifiers both sides carry."""

from __future__ import annotations

from collections.abc import Iterable

from matching_and_import_db.geodesy import great_circle_m, great_circle_one_m
from matching_and_import_db.stops import names
from matching_and_import_db.stops.model import Decision


def apply_decisions(run, decisions: Iterable[Decision]) -> tuple[set[int], list]:
    """People's decisions, before anything automatic; the last word on a pair counts."""
    latest: dict[tuple[str, str | None], Decision] = {}
    stale = []
    for d in decisions:
        if d.official_id not in run.o_index or (d.osm_key and d.osm_key not in run.s_index):
            stale.append(d)  # about a stop no longer in the data: kept for review
            continue
        latest[(d.official_id, d.osm_key)] = d
    missing = set()
    for d in latest.values():
        oi = run.o_index[d.official_id]
        if d.action == "missing_in_osm":
            missing.add(oi)
            run.o_free[oi] = False
        elif d.action == "reject":
            run.reject(oi, run.s_index[d.osm_key])
    for d in latest.values():
        if d.action in ("confirm", "manual"):
            method = "confirmed" if d.action == "confirm" else "manual"
            oi = run.o_index[d.official_id]
            run.add(oi, run.s_index[d.osm_key], method, "decision", 1.0,
                    {"note": d.note} if d.note else {})
            missing.discard(oi)  # a pair found since outweighs "missing_in_osm"
    return missing, stale


def _id_key(value: str | None) -> str:
    return value.strip().casefold() if value else ""


# official attribute -> how the same identifier is read from an OSM stop
_IDENTIFIERS = (
    ("sloid", "ref:sloid", lambda s: [s.ref_sloid]),
    ("ifopt", "ref:IFOPT", lambda s: (s.ref_ifopt or "").split(";")),
    ("gtfs_stop_id", "gtfs:stop_id", lambda s: [s.tags.get("gtfs:stop_id")]),
    ("atco_code", "naptan:AtcoCode", lambda s: [s.tags.get("naptan:AtcoCode")]),
)


# a reader names any other OSM tag that carries the registry's id as extra "osm:<tag>"
# (NSR quays: "osm:ref:nsrq"); a stop place may list several values, separated by ";"
OSM_TAG_PREFIX = "osm:"


def _osm_tag_identifiers(run) -> list[tuple[str, str, object]]:
    tags = sorted({key[len(OSM_TAG_PREFIX):] for o in run.official for key in o.extra
                   if key.startswith(OSM_TAG_PREFIX)})
    return [(OSM_TAG_PREFIX + tag, tag, _tag_reader(tag)) for tag in tags]


def _tag_reader(tag: str):
    if tag == "ref":  # a column of its own in osm_stops
        return lambda s: (s.ref or s.tags.get("ref") or "").split(";")
    return lambda s: (s.tags.get(tag) or "").split(";")


def _shown_value(stop, attribute: str) -> str | None:
    return stop.extra.get(attribute) if attribute.startswith(OSM_TAG_PREFIX) else getattr(
        stop, attribute)


def _official_values(stop, attribute: str) -> list[str]:
    if attribute.startswith(OSM_TAG_PREFIX):
        return [v for v in (_id_key(x) for x in stop.extra.get(attribute, "").split(";")) if v]
    value = _id_key(getattr(stop, attribute))
    return [value] if value else []


def match_identifiers(run, held: set[int]) -> None:
    """Pairs by an identifier both sides carry. When several registry platforms claim one
    OSM object (a code entered twice), those within candidate_radius_m take it (else the
    nearest); an
    identifier pair farther than too_far_high_m whose names disagree too is a mapping
    error, left to later stages."""
    p = run.profile
    for attribute, tag, read in (*_IDENTIFIERS, *_osm_tag_identifiers(run)):
        index: dict[str, list[int]] = {}
        for j, stop in enumerate(run.osm):
            for value in read(stop):
                if _id_key(value):
                    index.setdefault(_id_key(value), []).append(j)
        if not index:
            continue
        # a held registry duplicate with its own id of a kind OSM uses, not found in OSM,
        # is a stop of its own that OSM lacks, not a copy of its group's first row
        for i in list(held):
            if _official_values(run.official[i], attribute):
                held.discard(i)
                run.o_free[i] = True
        claims: dict[int, list[tuple[float, int]]] = {}
        for i, stop in enumerate(run.official):
            if not (run.o_free[i] or i in held):
                continue
            for j in {j for v in _official_values(stop, attribute) for j in index.get(v, ())}:
                if not run.s_free[j] or (i, j) in run.rejected:
                    continue
                d = great_circle_one_m(stop.lon, stop.lat, run.osm[j].lon, run.osm[j].lat)
                if d > p.too_far_high_m and names.name_similarity(
                        run.o_name[i], run.s_name[j]) < p.name_weak:
                    continue
                claims.setdefault(j, []).append((d, i))
        taken: set[int] = set()
        for j, claimants in sorted(claims.items()):
            places = [i for _, i in claimants if run.o_place[i]]
            nearest = min(claimants)[0]
            # rows near it are one stop (HSL lists a shared stop once per mode); a far row
            # with the same code is a typo or a stop that moved
            winners = places or [i for d, i in claimants
                                 if d <= max(nearest, p.candidate_radius_m)]
            for i in winners:  # an id names one stop, however many OSM objects carry it
                run.add(i, j, tag, "identifier", 1.0,
                        {"tag": tag, "value": _shown_value(run.official[i], attribute)},
                        take_official=False)
                taken.add(i)
        for i in taken:
            run.o_free[i] = False
            held.discard(i)
    _match_uic(run, held)


def _match_uic(run, held: set[int]) -> None:
    """uic_ref names a station; local_ref against the platform code picks the platform."""
    by_uic: dict[str, list[int]] = {}
    for j, stop in enumerate(run.osm):
        if stop.uic_ref and run.s_primary[j]:
            by_uic.setdefault(stop.uic_ref.strip(), []).append(j)
    waiting = [i for i, o in enumerate(run.official)
               if o.uic_ref and run.o_free[i] and i not in held and o.uic_ref.strip() in by_uic]
    waiting.sort(key=lambda i: run.o_plat[i] == "")  # with a platform code first
    for i in waiting:
        if run.o_place[i]:  # a stop place is the whole station: every object of its uic_ref
            _match_station(run, i)
            continue
        code = run.o_plat[i]
        free = [j for j in by_uic[run.official[i].uic_ref.strip()]
                if run.s_free[j] and (i, j) not in run.rejected]
        same = [j for j in free if code and run.s_plat[j] == code]
        if same:
            chosen, method = same, "uic_ref+local_ref"
        elif len(free) == 1 and (not code or not run.s_plat[free[0]]):
            chosen, method = free, "uic_ref"
        else:
            continue  # which platform is meant is unclear: left to the later stages
        j = min(chosen, key=lambda k: great_circle_m(run.o_lon[i], run.o_lat[i],
                                                  run.s_lon[k], run.s_lat[k]))
        run.add(i, j, method, "identifier", 1.0,
                {"uic_ref": run.official[i].uic_ref, "platform_code": code or None,
                 "local_ref": run.osm[j].local_ref})


def _match_station(run, i: int) -> None:
    uic = run.official[i].uic_ref.strip()
    hits = [j for j, stop in enumerate(run.osm)
            if stop.uic_ref and stop.uic_ref.strip() == uic and run.s_free[j]
            and (i, j) not in run.rejected]
    for j in hits:
        run.add(i, j, "uic_ref", "identifier", 1.0, {"uic_ref": uic, "level": "place"},
                take_official=False)
    if hits:
        run.o_free[i] = False
