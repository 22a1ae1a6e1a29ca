"""The first stages: people's decisions, then identifiers both sides carry."""

from __future__ import annotations

from collections.abc import Iterable

from matching_and_import_db.transit.model import Decision
from matching_and_import_db.transit.spatial import haversine_m


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
        if d.action == "missing":
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
            missing.discard(oi)  # a pair found since outweighs "missing"
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


def match_identifiers(run, held: set[int]) -> None:
    for attribute, tag, read in _IDENTIFIERS:
        index: dict[str, list[int]] = {}
        for j, stop in enumerate(run.osm):
            for value in read(stop):
                if _id_key(value):
                    index.setdefault(_id_key(value), []).append(j)
        if not index:
            continue
        for i, stop in enumerate(run.official):
            value = _id_key(getattr(stop, attribute))
            if not value or not (run.o_free[i] or i in held) or value not in index:
                continue
            hits = [j for j in index[value] if run.s_free[j] and (i, j) not in run.rejected]
            for j in hits:  # an id names one stop, however many OSM objects carry it
                run.add(i, j, tag, "identifier", 1.0,
                        {"tag": tag, "value": getattr(stop, attribute)})
            if hits:
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
        j = min(chosen, key=lambda k: haversine_m(run.o_lon[i], run.o_lat[i],
                                                  run.s_lon[k], run.s_lat[k]))
        run.add(i, j, method, "identifier", 1.0,
                {"uic_ref": run.official[i].uic_ref, "platform_code": code or None,
                 "local_ref": run.osm[j].local_ref})
