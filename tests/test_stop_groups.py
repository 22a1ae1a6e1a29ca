"""Stop matching as issue 11 asks of it on real registries: stop places take the OSM stop
group, platforms one object; modes never cross; the registry's locality prefix is removed
before names are compared and a bare town name is no evidence; distance alone is no match;
stop_area relations come from the OSM import."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest

from matching_and_import_db.stops import matching, names, sides
from matching_and_import_db.stops.matching import MatchingProfile, match_stops
from matching_and_import_db.stops.modes import modes_compatible, modes_of_osm_tags
from matching_and_import_db.stops.readers import read_osm_stops
from tests.stop_matching_helpers import STOP_AREA_OSM, east, north, official, osm

STOPS = Path(__file__).parent / "fixtures" / "stops"


def place(stop_id: str, name: str, lon: float = 8.0, lat: float = 47.0, **fields):
    return official(stop_id, name, lon, lat, level="place", **fields)


def two_platforms_and_a_stop_position(name: str = "Im Besch") -> list:
    """One bus stop as OSM maps it: a platform per direction, 8 m apart, and a stop
    position beside each."""
    bus = {"bus": "yes", "public_transport": "platform"}
    return [osm(1, name, lat=north(4), kind="platform", tags=bus),
            osm(2, name, lat=north(-4), kind="platform", tags=bus),
            osm(3, name, east(3), north(4), "stop_position",
                tags={"bus": "yes", "public_transport": "stop_position"})]


# --- stop places and platforms -----------------------------------------------------------

def test_a_stop_place_with_two_platforms_a_few_metres_apart_matches_the_group():
    result = match_stops([place("ch:1:sloid:7001", "Schaan, Im Besch", mode="bus")],
                         two_platforms_and_a_stop_position())
    assert result.pairs() == {("ch:1:sloid:7001", "n1"), ("ch:1:sloid:7001", "n2"),
                              ("ch:1:sloid:7001", "n3")}
    assert {m.stage for m in result.matches} == {"group"}
    assert result.unmatched_official == [] and result.unmatched_osm == []
    assert not [p for p in result.problems if p.type == "unmatched_official"]


def test_platform_rows_of_that_stop_each_match_one_platform():
    result = match_stops([official("a", "Im Besch", lat=north(5), mode="bus"),
                          official("b", "Im Besch", lat=north(-5), mode="bus")],
                         two_platforms_and_a_stop_position())
    direct = {(m.official_id, m.osm_key) for m in result.matches if m.stage != "propagation"}
    assert direct == {("a", "n1"), ("b", "n2")}


def test_a_stop_place_takes_the_members_of_its_stop_area_relation_even_unnamed():
    stops = [osm(1, "Dorfplatz", lat=north(3), stop_areas=(77,)),
             osm(2, None, lat=north(-6), stop_areas=(77,)),
             osm(3, None, lat=north(-9))]  # near, but in no relation and without a name
    result = match_stops([place("p", "Dorfplatz")], stops)
    assert result.pairs() == {("p", "n1"), ("p", "n2")}


def test_stop_places_of_two_modes_share_a_group_each_taking_its_own_part():
    stops = [osm(1, "Kolmikulma", lat=north(6), kind="bus_stop", tags={"highway": "bus_stop"}),
             osm(2, "Kolmikulma", lat=north(-6), kind="tram_stop",
                 tags={"railway": "tram_stop"})]
    result = match_stops([place("bus", "Kolmikulma", mode="bus"),
                          place("tram", "Kolmikulma", lat=north(-1), mode="tram")], stops)
    assert result.pairs() == {("bus", "n1"), ("tram", "n2")}


def test_a_platform_tagged_for_two_modes_belongs_to_both_modes_stop_places():
    # HSL lists the bus and the tram stop of one pole as two places; OSM maps the pole once
    shared = {"highway": "bus_stop", "bus": "yes", "tram": "yes"}
    stops = [osm(1, "Snellmaninkatu", lat=north(6), kind="bus_stop", tags=shared),
             osm(2, "Snellmaninkatu", lat=north(-6), kind="bus_stop", tags=shared)]
    result = match_stops([place("bus", "Snellmaninkatu", mode="bus"),
                          place("tram", "Snellmaninkatu", lat=north(1), mode="tram")], stops)
    assert result.pairs() == {("bus", "n1"), ("bus", "n2"), ("tram", "n1"), ("tram", "n2")}


def test_two_platforms_with_one_uic_ref_are_the_stop_place_not_an_unclear_case():
    stops = [osm(1, "Dorf", lat=north(7), uic_ref="8500020", local_ref="A"),
             osm(2, "Dorf", lat=north(-8), uic_ref="8500020", local_ref="B")]
    result = match_stops([place("dorf", "Dorf", uic_ref="8500020")], stops)
    assert {(m.osm_key, m.stage, m.method) for m in result.matches} == {
        ("n1", "identifier", "uic_ref"), ("n2", "identifier", "uic_ref")}
    # a platform row with that uic_ref alone still cannot say which platform it is
    platform = match_stops([official("c", "Dorf", uic_ref="8500020")], stops)
    assert "identifier" not in platform.stage_counts


# --- modes -------------------------------------------------------------------------------

def test_a_bus_stop_is_never_matched_to_a_railway_halt():
    halt = osm(1, "Schaanwald", lat=north(6), kind="halt",
               tags={"railway": "halt", "public_transport": "station", "train": "yes"})
    for mode in ("bus", None):  # by its mode, and without one by its name
        result = match_stops([official("z", "Schaanwald, Zuschg (BUS)", mode=mode)], [halt])
        assert result.pairs() == set(), mode
    # the same name with a mode that fits is matched
    rail = match_stops([official("s", "Schaanwald", mode="rail")], [halt])
    assert rail.pairs() == {("s", "n1")}


def test_a_bus_stop_is_not_matched_to_a_rail_platform_named_only_by_its_number():
    platform = osm(1, "1", lat=north(10), kind="platform",
                   tags={"railway": "platform", "public_transport": "platform"})
    result = match_stops([official("b", "Schaan, Bahnhof", mode="bus")], [platform])
    assert result.pairs() == set()


def test_a_refused_platform_row_never_falls_back_to_a_stop_position():
    # two platforms of one name at the same distance: which is meant is unclear, and the
    # stop position beside them is not taken instead
    stops = [osm(1, "Kirche", lat=north(8)), osm(2, "Kirche", lat=north(-8)),
             osm(3, "Kirche", east(2), 47.0, "stop_position")]
    result = match_stops([official("k", "Kirche")], stops)
    assert result.pairs() == set()
    [problem] = [p for p in result.problems if p.type == "unmatched_official"]
    assert problem.evidence["refused"]["candidate"] in ("n1", "n2")


@pytest.mark.parametrize(("tags", "mode", "compatible"), [
    ({"highway": "bus_stop"}, "bus", True),
    ({"railway": "halt"}, "bus", False),
    ({"railway": "tram_stop"}, "bus", True),  # shared street stops
    ({"railway": "station", "station": "subway"}, "metro", True),
    ({"railway": "platform", "subway": "yes"}, "bus", False),
    ({"public_transport": "platform"}, "rail", True),  # says no mode: compatible
    ({"aerialway": "station"}, "cableway", True),
    ({"aerialway": "station"}, "bus", False),
])
def test_modes_of_osm_tags_against_registry_modes(tags, mode, compatible):
    assert modes_compatible(mode, modes_of_osm_tags(tags)) is compatible


# --- names -------------------------------------------------------------------------------

@pytest.mark.parametrize(("osm_name", "matched"), [
    ("Im Besch", True),  # OSM leaves the locality out
    ("Schaan Im Besch", True),  # or writes it without the comma
    ("Schaan, Im Besch", True),
    ("Schaan", False),  # the town alone is no evidence for any of its stops
    ("Vaduz", False),
])
def test_registry_locality_prefix_is_removed_before_names_are_compared(osm_name, matched):
    result = match_stops([official("s", "Schaan, Im Besch")],
                         [osm(1, osm_name, lat=north(5))])
    assert (result.pairs() == {("s", "n1")}) is matched


def test_a_lone_town_name_scores_under_what_counts_as_name_evidence():
    weak = MatchingProfile().name_weak
    locality, rest = names.registry_name("Schaan, Im Besch")
    assert (locality, rest) == ("schaan", "im besch")
    [score] = names.registry_pair_similarities([rest], [locality], ["schaan"])
    assert score < weak
    # also when the bare town is the registry's side: another stop of the registry
    # names the town as its locality
    result = match_stops([official("town", "Schaan"),
                          official("other", "Schaan, Post", lat=north(900))],
                         [osm(1, "Schaan Lindenplatz", lat=north(5))])
    assert result.pairs() == set()


def test_names_in_another_language_on_either_side_count():
    stop = osm(1, "Kauppakorkeakoulut", lat=north(4),
               tags={"name:sv": "Handelshögskolan"})
    result = match_stops([official("h", "Handelshögskolan")], [stop])
    assert result.pairs() == {("h", "n1")}
    result = match_stops([official("h", "Hanken", extra={"alt_name": "Kauppakorkeakoulut"})],
                         [osm(1, "Kauppakorkeakoulut", lat=north(4))])
    assert result.pairs() == {("h", "n1")}


# --- identifiers the mappers copied -------------------------------------------------------

def test_a_registry_id_in_any_osm_tag_is_an_identifier():
    stops = [osm(1, "Politihuset", lat=north(7), tags={"ref:nsrq": "12043"}),
             osm(2, "Politihuset", lat=north(-6), tags={"ref:nsrq": "12044"})]
    result = match_stops([official("NSR:Quay:12043", "Politihuset", lat=north(-5),
                                   extra={"osm:ref:nsrq": "12043"})], stops)
    assert {(m.osm_key, m.stage, m.method) for m in result.matches} == {
        ("n1", "identifier", "ref:nsrq")}


def test_a_code_entered_twice_goes_to_the_rows_at_the_stop_not_to_a_far_one():
    # HSL lists a shared stop once per mode, and sometimes a code again far away
    stop = osm(1, "Snellmaninkatu", lat=north(3), ref="0454")
    rows = [official("bus", "Snellmaninkatu", mode="bus", extra={"osm:ref": "0454"}),
            official("tram", "Snellmaninkatu", lat=north(5), mode="tram",
                     extra={"osm:ref": "0454"}),
            official("far", "Snellmaninkatu", lat=north(150), extra={"osm:ref": "0454"})]
    result = match_stops(rows, [stop])
    assert {(m.official_id, m.stage) for m in result.matches} == {
        ("bus", "identifier"), ("tram", "identifier")}


def test_rows_with_one_stop_code_are_one_stop_placed_by_the_row_nearest_it():
    # HSL lists the pole of Erottaja once as bus, once as tram, 13 m apart, with one code
    # on the sign; the other side of the street has its own pole of that name
    platform = {"public_transport": "platform", "bus": "yes", "tram": "yes"}
    stops = [osm(1, "Erottaja", lat=north(2), kind="platform", tags=platform),
             osm(2, "Erottaja", east(14), north(14), kind="platform", tags=platform)]
    rows = [official("bus", "Erottaja", east(4), north(13), mode="bus",
                     extra={"stop_code": "H0802"}),
            official("tram", "Erottaja", mode="tram", extra={"stop_code": "H0802"})]
    result = match_stops(rows, stops)
    assert result.pairs() == {("bus", "n1"), ("tram", "n1")}
    assert result.official_duplicates == [["bus", "tram"]]
    by_row = {m.official_id: m.method for m in result.matches}
    assert by_row["bus"] == "duplicate_propagation"


def test_superseded_quays_beside_their_successors_follow_them_onto_the_one_platform():
    # Ruter lists the old and the new quay of each Bislett platform a metre apart: four
    # rows for the two platforms OSM maps, one each side of the street
    bus = {"highway": "bus_stop", "bus": "yes"}
    stops = [osm(1, "Bislett", lat=north(11), kind="bus_stop", tags=bus),
             osm(2, "Bislett", lat=north(-11), kind="bus_stop", tags=bus)]
    rows = [official("104068", "Bislett", lat=north(10)),
            official("11494", "Bislett", east(1), north(10)),
            official("104067", "Bislett", lat=north(-12)),
            official("11492", "Bislett", east(1), north(-12))]
    result = match_stops(rows, stops)
    assert result.pairs() == {("104068", "n1"), ("11494", "n1"), ("104067", "n2"),
                              ("11492", "n2")}
    assert sorted(result.official_duplicates) == [["104067", "11492"], ["104068", "11494"]]


def test_two_quays_at_one_position_with_a_platform_each_are_not_guessed():
    # two platforms, one each side of the street, that the registry puts at one spot:
    # as many rows as platforms, and nothing tells which row is which platform
    bus = {"highway": "bus_stop", "bus": "yes"}
    stops = [osm(1, "Homansbyen", east(6), north(5), kind="bus_stop", tags=bus),
             osm(2, "Homansbyen", east(-6), north(-5), kind="bus_stop", tags=bus)]
    rows = [official("8128", "Homansbyen"), official("8129", "Homansbyen", east(1))]
    result = match_stops(rows, stops)
    assert result.pairs() == set()
    assert sorted(result.unmatched_official) == ["8128", "8129"]


def test_a_bus_row_with_the_tram_rows_stop_code_follows_it_onto_a_tram_stop():
    # HSL lists the pole of Kauppiaankatu (H0411) once as bus, once as tram, 10 m apart;
    # OSM maps it as railway=tram_stop alone, as it maps most shared street stops
    stops = [osm(1, "Kauppiaankatu", lat=north(2), kind="tram_stop",
                 tags={"railway": "tram_stop"}),
             osm(2, "Kauppiaankatu", east(25), north(30), kind="tram_stop",
                 tags={"railway": "tram_stop"})]
    rows = [official("bus", "Kauppiaankatu", east(3), north(-8), mode="bus",
                     extra={"stop_code": "H0411"}),
            official("tram", "Kauppiaankatu", mode="tram", extra={"stop_code": "H0411"})]
    result = match_stops(rows, stops)
    assert result.pairs() == {("bus", "n1"), ("tram", "n1")}


def test_the_assignment_does_not_push_a_row_onto_a_far_platform_to_free_its_near_one():
    # Kamppi, HSL against OSM: one row stands 5 m from a platform, another 9 m from it
    # with nothing else near; matching both rows pushed the first onto a platform 93 m
    # away and gave its platform to the second
    stops = [osm(1, "Kamppi", lat=north(5), kind="bus_stop"),
             osm(2, "Kamppi", lat=north(-93), kind="bus_stop")]
    rows = [official("near", "Kamppi"), official("next", "Kamppi", lat=north(14))]
    result = match_stops(rows, stops)
    assert ("near", "n2") not in result.pairs() and ("next", "n1") not in result.pairs()
    [refused] = [p.evidence["refused"] for p in result.problems
                 if p.type == "unmatched_official" and p.official_id == "near"]
    assert refused["candidate"] == "n2" and "n1" in refused["ambiguous_with"]


# --- the registry's direction of travel ---------------------------------------------------

OSLO_EXCERPT = json.loads((STOPS / "oslo-ruter-quays-excerpt.json").read_text("utf-8"))


def oslo_excerpt(bearings: bool = True) -> tuple[list, list, dict[str, set[str]]]:
    """Ruter's quays of 16 central Oslo stops (positions on the road, from its service
    links; compass bearings from the same links) and central Oslo's OSM objects near them,
    without ref:nsrq; the truth from ref:nsrq (tests/fixtures/stops/ATTRIBUTION.md)."""
    rows = [official(r["quay_id"], r["name"], r["lon"], r["lat"], extra={
        "compass_bearing": r["compass_bearing"]} if bearings and r["compass_bearing"] else {})
        for r in OSLO_EXCERPT["registry"]]
    stops = [osm(int(s["key"][1:]), s["tags"].get("name"), s["lon"], s["lat"], s["kind"],
                 tags=s["tags"]) for s in OSLO_EXCERPT["osm"] if s["key"][0] == "n"]
    stops += [dataclasses.replace(osm(int(s["key"][1:]), s["tags"].get("name"), s["lon"],
                                      s["lat"], s["kind"], tags=s["tags"]), osm_type="w")
              for s in OSLO_EXCERPT["osm"] if s["key"][0] == "w"]
    truth: dict[str, set[str]] = {}
    for s in OSLO_EXCERPT["osm"]:
        if s["ref:nsrq"]:
            truth.setdefault(f"NSR:Quay:{s['ref:nsrq']}", set()).add(s["key"])
    return rows, stops, truth


def coded_rows_found_and_wrong(result, truth) -> tuple[int, list[str]]:
    coded = set().union(*truth.values())
    got: dict[str, set[str]] = {}
    for m in result.matches:
        if m.osm_key in coded and m.official_id in truth:
            got.setdefault(m.official_id, set()).add(m.osm_key)
    wrong = sorted(k for k, keys in got.items() if not keys <= truth[k])
    return len(got) - len(wrong), wrong


def test_quays_of_both_directions_at_one_spot_each_take_the_platform_on_their_kerb_side():
    rows, stops, truth = oslo_excerpt()
    assert (len(rows), len(stops), len(truth)) == (46, 123, 40)
    found, wrong = coded_rows_found_and_wrong(match_stops(rows, stops), truth)
    assert wrong == []
    assert found >= 36
    # without the bearings the quays a metre apart are a tie the matcher refuses
    found_blind, _ = coded_rows_found_and_wrong(match_stops(*oslo_excerpt(False)[:2]), truth)
    assert found_blind <= 10


def test_bearings_decide_nothing_where_the_registry_places_quays_at_the_platforms():
    # the same stops, the rows now standing at their true platforms: platforms then lie
    # on no side of the direction of travel, and no pair is dropped for its side
    rows, stops, truth = oslo_excerpt()
    by_key = {s.key: s for s in stops}
    at_platform = []
    for row in rows:
        if row.stop_id in truth:
            where = by_key[min(truth[row.stop_id])]
            row = dataclasses.replace(row, lon=where.lon, lat=where.lat)
        at_platform.append(row)
    run = matching._Run(at_platform, stops, MatchingProfile())
    assert run.kerb_side == 0


def test_quays_travelled_opposite_ways_are_not_registry_duplicates():
    bus = {"highway": "bus_stop", "bus": "yes"}
    stops = [osm(1, "Dælenenga", east(6), kind="bus_stop", tags=bus),
             osm(2, "Dælenenga", east(-6), kind="bus_stop", tags=bus)]
    rows = [official("11856", "Dælenenga", extra={"compass_bearing": "0"}),
            official("11857", "Dælenenga", east(1), extra={"compass_bearing": "180"})]
    assert match_stops(rows, stops).official_duplicates == []
    same_way = [rows[0], dataclasses.replace(rows[1], extra={"compass_bearing": "10"})]
    assert match_stops(same_way, stops).official_duplicates == [["11856", "11857"]]


def test_compass_bearings_that_are_not_numbers_are_no_bearing():
    rows = [official("a", "X", extra={"compass_bearing": "north"}),
            official("b", "X", extra={"compass_bearing": "400"}), official("c", "X")]
    assert sides.bearings(rows)[1] == 40.0
    assert np.isnan(sides.bearings(rows)[[0, 2]]).all()


# --- the OSM side: stop_area relations ----------------------------------------------------

def test_stop_area_relations_are_read_with_the_stops(tmp_path):
    path = tmp_path / "area.osm"
    path.write_text(STOP_AREA_OSM, encoding="utf-8")
    stops = {s.key: s for s in read_osm_stops(str(path))}
    assert {k: s.stop_areas for k, s in stops.items()} == {"n1": (77,), "n2": (77,), "n3": ()}
    result = match_stops([place("p", "Dorfplatz", mode="bus")], list(stops.values()))
    assert result.pairs() == {("p", "n1"), ("p", "n2")}
