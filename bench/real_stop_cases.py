"""Real stop-matching cases whose truth nobody here made (bench/data, see its ATTRIBUTION.md).

Each case gives the registry side, the OSM side with its identifier tags stripped (what the
matcher is shown, "ids hidden"), the OSM side as mapped ("ids kept", the registry side then
carries the identifier the mappers copied), and the truth: registry stop id -> the OSM
objects that are that stop, known from those identifiers.

The registry sides are read by the portal's reader with the configurations in
bench/data/registry_configs.json (HSL: EPSG:2392, VERKKO as mode, REI_VOIM = 1).

  hsl              HSL's register (EPSG:2392, one row per pole or platform, active rows)
                   against Helsinki's OSM stops of 2019; truth "H" + ref == LYHYTTUNNU,
                   without railway=station objects and pairs over 100 m (eval README).
  hsl_stop_places  the same, each stop's rows merged into one stop place (same Finnish
                   name within 150 m, as HSL's stop signs are named): truth is the group.
                   A place whose rows are of several modes (the bus and tram poles of one
                   stop) names no mode, as ATLAS's service points of several means of
                   transport do: the service-point shape the issue asks for.
  hsl_stop_places_by_mode
                   the same, but one place per mode (rows of one VERKKO only): the bus and
                   the tram place of one stop then share OSM objects HSL codes on one of
                   them, so a match of the other is scored wrong (the definition until
                   issue 11's second round; kept to show what the definition changes).
  oslo_nsr         Ruter's NSR quays (2021) against central Oslo's OSM (2025); truth
                   ref:nsrq == the number of the quay id. Each quay's direction of travel
                   (extra "compass_bearing") comes from the service links of Ruter's NeTEx
                   file, which its position comes from too (ruter_bearings).
"""

from __future__ import annotations

import csv
import dataclasses
import json
import re
import zipfile
from collections import defaultdict
from pathlib import Path

import numpy as np

from matching_and_import_db.geodesy import great_circle_m
from matching_and_import_db.stops import names
from matching_and_import_db.stops.model import OfficialStop, OsmStopRef
from matching_and_import_db.stops.readers import read_mapped_csv, read_osm_stops
from matching_and_import_db.stops.registry_config import mapped_options
from matching_and_import_db.stops.spatial import Projection, pairs_within

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "bench" / "data"
TRUTH_MAX_M = 100.0
# identifier tags hidden from the matcher in the "ids hidden" runs
ID_TAGS = ("ref", "ref:IFOPT", "ref:sloid", "uic_ref", "gtfs:stop_id", "ref:findr",
           "railway:ref", "shelter:ref", "was:ref", "naptan:AtcoCode", "ref:nsrq",
           "ref:nsr", "unsigned_ref", "local_ref")
PLACE_RADIUS_M = 150.0
COPY_MAX_M = 3.0  # the matcher's duplicate_radius_m: closer rows of one name are one spot


@dataclasses.dataclass
class Case:
    name: str
    official: list[OfficialStop]  # as the "ids hidden" run sees them
    official_kept: list[OfficialStop]  # with the identifier the mappers copied, in extra
    osm_hidden: list[OsmStopRef]
    osm_kept: list[OsmStopRef]
    truth: dict[str, set[str]]  # official id -> OSM keys that are that stop
    # registry rows nobody coded in OSM that are a coded row over again: same name and mode
    # within COPY_MAX_M (Ruter's superseded quays beside their successors); see score()
    # (copy -> the OSM objects of the coded rows it copies)
    copies: dict[str, set[str]] = dataclasses.field(default_factory=dict)

    def __post_init__(self) -> None:
        self.copies = copies_of_coded_rows(self.official, self.truth)

    @property
    def judgeable(self) -> set[str]:
        """OSM objects whose identity is known: a match to one of them can be scored."""
        return set().union(*self.truth.values()) if self.truth else set()


def copies_of_coded_rows(official: list[OfficialStop],
                         truth: dict[str, set[str]]) -> dict[str, set[str]]:
    """Rows outside the truth with the name and mode of a row in it, within COPY_MAX_M,
    each with the OSM objects of the rows it copies."""
    coded = [o for o in official if o.stop_id in truth]
    copies: dict[str, set[str]] = defaultdict(set)
    if not coded:
        return copies
    lon = np.array([o.lon for o in official])
    lat = np.array([o.lat for o in official])
    c_lon = np.array([o.lon for o in coded])
    c_lat = np.array([o.lat for o in coded])
    ia, ib, _ = pairs_within(lon, lat, c_lon, c_lat, COPY_MAX_M,
                             Projection(np.concatenate([lat, c_lat])))
    for a, b in zip(ia.tolist(), ib.tolist(), strict=True):
        o, c = official[a], coded[b]
        if o.stop_id not in truth and o.name == c.name and o.mode == c.mode:
            copies[o.stop_id] |= truth[c.stop_id]
    return dict(copies)


def without_identifiers(stop: OsmStopRef) -> OsmStopRef:
    return dataclasses.replace(stop, ref=None, uic_ref=None, ref_ifopt=None, ref_sloid=None,
                               local_ref=None,
                               tags={k: v for k, v in stop.tags.items() if k not in ID_TAGS})


def _truth_within(official: list[OfficialStop], osm: list[OsmStopRef],
                  wanted: dict[str, set[str]]) -> dict[str, set[str]]:
    """Truth pairs closer than TRUTH_MAX_M (a code copied onto a far object is a mapping
    error, not a stop)."""
    o_by_id = {o.stop_id: o for o in official}
    s_by_key = {s.key: s for s in osm}
    truth: dict[str, set[str]] = {}
    for stop_id, keys in wanted.items():
        o = o_by_id[stop_id]
        near = {k for k in keys if great_circle_m(o.lon, o.lat, s_by_key[k].lon,
                                                s_by_key[k].lat) <= TRUTH_MAX_M}
        if near:
            truth[stop_id] = near
    return truth


# --- HSL -------------------------------------------------------------------------------

def _config(case: str) -> dict:
    """The stops-import configuration of a case's registry (bench/data/registry_configs.json),
    as an operator would enter it, plus where this bench wants the registry's other
    name: in extra "alt_name", which the matcher compares too."""
    config = json.loads((DATA / "registry_configs.json").read_text())[case]
    return {**config, "mapping": {**config["mapping"], **ALT_NAMES.get(case, {})}}


ALT_NAMES = {"hsl": {"extra:alt_name": "NAMN1"}}


def _read_registry(case: str) -> list[OfficialStop]:
    """The registry side through the portal's own reader (read_mapped_csv, with the CRS,
    the mode codes and the row filter of the case's configuration)."""
    config = _config(case)
    return read_mapped_csv(str(ROOT / config["source"]), config["mapping"], source=case,
                           options=mapped_options(config)).stops


def _hsl_rows() -> list[dict]:
    """HSL's active rows, each with its registry stop as the reader reads it."""
    stops = {s.stop_id: s for s in _read_registry("hsl")}
    with open(DATA / "hsl-stop-data-2020-07-22.csv", encoding="utf-8-sig", newline="") as f:
        rows = [r for r in csv.DictReader(f)
                if r["SOLMUTUNNU"] in stops and r["LYHYTTUNNU"].strip()]
    for r in rows:
        r["stop"] = stops[r["SOLMUTUNNU"]]
        r["lon"], r["lat"] = r["stop"].lon, r["stop"].lat
    return rows


def _hsl_stop(r: dict, kept: bool) -> OfficialStop:
    stop = r["stop"]
    # the register's own stop code (the one on the sign) is registry data, shown in both
    # runs; only its copy into OSM (ref) is hidden
    extra = {k: v for k, v in stop.extra.items() if k in ("alt_name", "stop_code")}
    code = r["LYHYTTUNNU"].strip()
    if kept and code.startswith("H"):
        extra["osm:ref"] = code[1:]  # mappers copied the code without Helsinki's "H"
    return dataclasses.replace(stop, extra=extra)


def _hsl_osm() -> list[OsmStopRef]:
    return read_osm_stops(str(DATA / "stops-2019-01-21.osm"))


def _hsl_truth(rows: list[dict], osm: list[OsmStopRef]) -> dict[str, set[str]]:
    by_code = defaultdict(set)
    for s in osm:
        if s.ref and s.tags.get("railway") != "station":
            by_code["H" + s.ref.strip()].add(s.key)
    return {r["SOLMUTUNNU"]: by_code[r["LYHYTTUNNU"].strip()] for r in rows
            if r["LYHYTTUNNU"].strip() in by_code}


def hsl() -> Case:
    rows = _hsl_rows()
    osm = _hsl_osm()
    official = [_hsl_stop(r, False) for r in rows]
    truth = _truth_within(official, osm, _hsl_truth(rows, osm))
    return Case("hsl", official, [_hsl_stop(r, True) for r in rows],
                [without_identifiers(s) for s in osm], osm, truth)


def _places(rows: list[dict], by_mode: bool) -> list[list[int]]:
    """HSL rows of one stop: the same Finnish name within PLACE_RADIUS_M of each other
    (HSL has no grouping column; the poles of both directions share the sign's name),
    and with by_mode, the same network (VERKKO) too."""
    lon = np.array([r["lon"] for r in rows])
    lat = np.array([r["lat"] for r in rows])
    ia, ib, _ = pairs_within(lon, lat, lon, lat, PLACE_RADIUS_M, Projection(lat))
    parent = list(range(len(rows)))

    def root(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in zip(ia.tolist(), ib.tolist(), strict=True):
        if a < b and rows[a]["NIMI1"] and rows[a]["NIMI1"] == rows[b]["NIMI1"] and (
                not by_mode or rows[a]["VERKKO"] == rows[b]["VERKKO"]):
            parent[root(b)] = root(a)
    groups: dict[int, list[int]] = defaultdict(list)
    for i in range(len(rows)):
        groups[root(i)].append(i)
    return list(groups.values())


def hsl_stop_places(by_mode: bool = False) -> Case:
    rows = _hsl_rows()
    osm = _hsl_osm()
    platform_truth = _hsl_truth(rows, osm)
    official, kept, wanted = [], [], {}
    for members in _places(rows, by_mode):
        first = rows[members[0]]
        place_id = "place:" + first["SOLMUTUNNU"]
        lon = float(np.mean([rows[i]["lon"] for i in members]))
        lat = float(np.mean([rows[i]["lat"] for i in members]))
        extra = {k: v for k, v in first["stop"].extra.items() if k == "alt_name"}
        # a place of several modes names none, as ATLAS's service points of several
        # means of transport do (the reader leaves mode unset)
        modes = {rows[i]["stop"].mode for i in members}
        stop = OfficialStop("hsl", place_id, first["NIMI1"] or None, lon, lat, level="place",
                            mode=modes.pop() if len(modes) == 1 else None, extra=extra)
        official.append(stop)
        codes = [rows[i]["LYHYTTUNNU"].strip() for i in members]
        ids = ";".join(c[1:] for c in codes if c.startswith("H"))
        kept.append(dataclasses.replace(stop, extra={**extra, "osm:ref": ids} if ids else extra))
        keys = set().union(*(platform_truth.get(rows[i]["SOLMUTUNNU"], set())
                             for i in members))
        if keys:
            wanted[place_id] = keys
    truth = _truth_within(official, osm, wanted)
    name = "hsl_stop_places_by_mode" if by_mode else "hsl_stop_places"
    return Case(name, official, kept, [without_identifiers(s) for s in osm], osm, truth)


# --- Oslo: Ruter's NSR quays -----------------------------------------------------------

_QUAY = re.compile(r"^NSR:Quay:(\d+)$")


NETEX = "{http://www.netex.org.uk/netex}"
GML = "{http://www.opengis.net/gml/3.2}"
BEARING_ALONG_M = 15.0  # a link's direction at the stop: from it to this far along
BEARING_MIN_AGREEMENT = 0.9  # the links' mean resultant length (1: all the same way)


def ruter_bearings() -> dict[str, str]:
    """Each NSR quay's direction of travel (degrees from north) from Ruter's NeTEx
    timetable file, the one its positions come from (ATTRIBUTION.md): the ServiceLinks
    leaving the quay's stop point (their first BEARING_ALONG_M) and arriving at it (their
    last), averaged; left out where the links disagree (a terminus served both ways).
    Registry data, as NeTEx's Quay/CompassBearing, put where the portal's NeTEx reader puts
    that: extra "compass_bearing"."""
    from lxml import etree

    at_point: dict[str, list[float]] = defaultdict(list)
    quay_of: dict[str, str] = {}
    with zipfile.ZipFile(DATA / "rb_rut-aggregated-netex.zip") as archive, \
            archive.open("_RUT_shared_data.xml") as f:
        for _, el in etree.iterparse(f, tag=(NETEX + "ServiceLink",
                                             NETEX + "PassengerStopAssignment")):
            if el.tag == NETEX + "PassengerStopAssignment":
                point, quay = el.find(NETEX + "ScheduledStopPointRef"), el.find(NETEX + "QuayRef")
                if point is not None and quay is not None:
                    quay_of[point.get("ref")] = quay.get("ref")
            else:
                positions = el.find(f".//{GML}posList")
                start, end = el.find(NETEX + "FromPointRef"), el.find(NETEX + "ToPointRef")
                if positions is not None and positions.text and start is not None \
                        and end is not None:
                    values = [float(v) for v in positions.text.split()]
                    line = list(zip(values[1::2], values[0::2], strict=True))  # lon, lat
                    leaving, arriving = _heading(line), _heading(line[::-1])
                    if leaving is not None:
                        at_point[start.get("ref")].append(leaving)
                    if arriving is not None:
                        at_point[end.get("ref")].append((arriving + 180.0) % 360.0)
            el.clear()
    out = {}
    for point, quay in quay_of.items():
        angles = np.radians(at_point.get(point, []))
        if not len(angles):
            continue
        x, y = np.sin(angles).sum(), np.cos(angles).sum()
        if np.hypot(x, y) / len(angles) >= BEARING_MIN_AGREEMENT:
            out[quay] = f"{np.degrees(np.arctan2(x, y)) % 360.0:.1f}"
    return out


def _heading(line: list[tuple[float, float]]) -> float | None:
    """Degrees from north from a line's first point to its first point BEARING_ALONG_M
    away."""
    lon0, lat0 = line[0]
    cos0 = np.cos(np.radians(lat0))
    for lon, lat in line[1:]:
        dx, dy = (lon - lon0) * cos0 * 111_195.0, (lat - lat0) * 111_195.0
        if np.hypot(dx, dy) >= BEARING_ALONG_M:
            return float(np.degrees(np.arctan2(dx, dy)) % 360.0)
    return None


def oslo_nsr() -> Case:
    osm = read_osm_stops(str(DATA / "oslo-center-2025.osm.pbf"))
    bearings = ruter_bearings()
    official = [dataclasses.replace(o, extra={**o.extra, "compass_bearing": bearings[o.stop_id]})
                if o.stop_id in bearings else o for o in _read_registry("oslo_nsr")]
    kept = [dataclasses.replace(o, extra={**o.extra,
                                          "osm:ref:nsrq": _QUAY.match(o.stop_id).group(1)})
            for o in official]
    by_quay = defaultdict(set)
    for s in osm:
        for value in (s.tags.get("ref:nsrq") or "").split(";"):
            if value.strip():
                by_quay[f"NSR:Quay:{value.strip()}"].add(s.key)
    wanted = {o.stop_id: by_quay[o.stop_id] for o in official if o.stop_id in by_quay}
    truth = _truth_within(official, osm, wanted)
    return Case("oslo_nsr", official, kept, [without_identifiers(s) for s in osm], osm, truth)


CASES = {"hsl": hsl, "hsl_stop_places": hsl_stop_places,
         "hsl_stop_places_by_mode": lambda: hsl_stop_places(by_mode=True),
         "oslo_nsr": oslo_nsr}


# --- scoring and the naive baseline ----------------------------------------------------

def score(pairs: set[tuple[str, str]], case: Case) -> dict:
    """Stop-level figures. A registry stop is found when its matches include one of its true
    OSM objects and none that is known to be another stop's. Precision: of the registry
    stops matched to at least one OSM object whose identity is known, the share whose
    known objects are all theirs (matches to objects nobody coded cannot be judged).

    A copy (case.copies: a row nobody coded, with the name and mode of a coded row and
    within COPY_MAX_M of it) is not judged either: name and position, all a matcher sees,
    are the coded row's, and the OSM object at that spot is as much the copy's stop as the
    coded row's (Ruter's superseded quay and its successor are one platform; OSM tagged
    the new id only). It is not counted in recall, and its matches to the objects of the
    row it copies do not count for or against precision (a match to any other stop's
    object counts against it); the coded row still has to be found for recall."""
    judgeable = case.judgeable
    by_stop: dict[str, set[str]] = defaultdict(set)
    for official_id, key in pairs:
        if key in judgeable:
            by_stop[official_id].add(key)
    for copy, keys in case.copies.items():
        if by_stop.get(copy, set()) <= keys:  # on the platform it copies: not judged
            by_stop.pop(copy, None)
    right = {o for o, keys in by_stop.items() if keys <= case.truth.get(o, set())}
    found = right & set(case.truth)
    return {"recall": round(len(found) / max(len(case.truth), 1), 4),
            "precision": round(len(right) / max(len(by_stop), 1), 4),
            "stops": len(case.truth), "matched_judged": len(by_stop),
            "wrong": sorted(set(by_stop) - right)}


def baseline_pairs(official: list[OfficialStop], osm: list[OsmStopRef],
                   radius_m: float = 100.0, name_min: float = 80.0) -> set[tuple[str, str]]:
    """The naive matcher the issue measures against: for each registry stop, the nearest
    OSM stop within radius_m whose name scores at least name_min."""
    o_lon = np.array([o.lon for o in official])
    o_lat = np.array([o.lat for o in official])
    s_lon = np.array([s.lon for s in osm])
    s_lat = np.array([s.lat for s in osm])
    ia, ib, _ = pairs_within(o_lon, o_lat, s_lon, s_lat, radius_m,
                             Projection(np.concatenate([o_lat, s_lat])))
    o_names = [names.normalize_name(o.name) for o in official]
    s_names = [names.normalize_name(s.name) for s in osm]
    sim = names.pair_similarities([o_names[i] for i in ia], [s_names[j] for j in ib])
    chosen: dict[int, int] = {}
    for i, j, ok in zip(ia.tolist(), ib.tolist(), (sim >= name_min).tolist(), strict=True):
        if ok and i not in chosen:  # pairs come nearest first per registry stop
            chosen[i] = j
    return {(official[i].stop_id, osm[j].key) for i, j in chosen.items()}
