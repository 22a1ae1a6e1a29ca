"""Map matching of rides onto OSM ways: cases where the right answer is known.

Synthetic rides are drawn along known ways at 5 m/s, sampled at 1 Hz with Gaussian GPS noise
(seeded), over hand-made street grids and over real Oslo streets; the Andorra GPX is the one
GraphHopper's own map-matching test uses, matched against the same Andorra extract.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from matching_and_import_db.geodesy import step_lengths_m
from matching_and_import_db.rides import roadclass
from matching_and_import_db.rides.mapmatch import DEFAULT_PARAMS, match_ride
from matching_and_import_db.rides.roadnet import RoadNetwork, oneway_sign
from tests.mapmatch_helpers import (
    ANDORRA_GPX,
    ANDORRA_PBF,
    GRID_ORIGIN,
    OSLO_PBF,
    drifting_error,
    grid_way,
    part_of_way,
    random_route,
    read_gpx_points,
    read_ways,
    ride_along,
    times_at_speed,
    with_drift,
)

SIGMA = 6.0  # GPS noise of the synthetic rides (m); the matcher is told 7 (its default)
# On the real streets sidewalks are mapped 5 m beside the carriageway: with 6 m noise a few
# fixes in a row may fit the sidewalk as well as the street (a pass split in ~5 % of seeds);
# 5 m noise tests the same things without that coin toss.
SIGMA_OSLO = 5.0

# --- a hand-made grid (metres east/north of GRID_ORIGIN) ----------------------------------
# Main street A runs east along y=0 from x=0 to 600, crossed every 150 m by north-south
# streets C1..C3 (x=150, 300, 450); P runs parallel to A, 25 m north of it, and meets the
# crossing streets too. Ways share the vertices where they meet, as OSM ways do.
A, P, C1, C2, C3 = 1, 2, 11, 12, 13
CROSSING_X = {C1: 150.0, C2: 300.0, C3: 450.0}
PARALLEL_Y = 25.0


def grid_ways() -> list[tuple]:
    xs = [0.0, 150.0, 300.0, 450.0, 600.0]
    ways = [grid_way(A, [(x, 0.0) for x in xs]),
            grid_way(P, [(x, PARALLEL_Y) for x in xs])]
    for way_id, x in CROSSING_X.items():
        ways.append(grid_way(way_id, [(x, -250.0), (x, 0.0), (x, PARALLEL_Y), (x, 250.0)]))
    return ways


@pytest.fixture(scope="module")
def grid() -> RoadNetwork:
    return RoadNetwork.from_ways(grid_ways())


def lonlat(xy: list[tuple[float, float]]) -> np.ndarray:
    x, y = np.asarray(xy, dtype=np.float64).T
    lon, lat = GRID_ORIGIN.to_lonlat(x, y)
    return np.stack([lon, lat], axis=1)


def share(mask: np.ndarray) -> float:
    return float(np.mean(mask)) if len(mask) else 0.0


def passes_of(result, way_id: int) -> list:
    return [p for p in result.passes if p.way_id == way_id]


# --- one street, each direction -----------------------------------------------------------

@pytest.mark.parametrize("direction", [1, -1])
def test_one_street_each_direction(grid, direction):
    path = [(20.0, 0.0), (580.0, 0.0)][::direction]
    ride = ride_along([(A, lonlat(path), direction)], GRID_ORIGIN, np.random.default_rng(1),
                      sigma=SIGMA)
    r = match_ride(grid, ride.lon, ride.lat, ride.t)
    assert share(r.way_id == A) >= 0.95
    assert share(r.direction[r.way_id == A] == direction) >= 0.95
    on_a = passes_of(r, A)
    assert len(on_a) == 1 and on_a[0].direction == direction
    assert on_a[0].length_m == pytest.approx(560.0, abs=40.0)
    assert not np.any(r.way_id == P)  # the parallel street 25 m away is never taken


def test_out_and_back_is_two_passes(grid):
    """A U-turn in the middle of the street: two passes of the same way, +1 then -1."""
    ride = ride_along([(A, lonlat([(20.0, 0.0), (370.0, 0.0)]), 1),
                       (A, lonlat([(370.0, 0.0), (20.0, 0.0)]), -1)],
                      GRID_ORIGIN, np.random.default_rng(2), sigma=SIGMA)
    r = match_ride(grid, ride.lon, ride.lat, ride.t)
    assert share(r.way_id == A) >= 0.95
    assert share(r.direction == ride.truth_dir) >= 0.95
    on_a = passes_of(r, A)
    assert [p.direction for p in on_a] == [1, -1]
    turn = int(np.flatnonzero(ride.truth_dir < 0)[0])
    assert abs(on_a[1].first_index - turn) <= 3


def test_red_light_keeps_direction(grid):
    """90 s standing still (GPS jitter around one spot) do not flip the direction."""
    ride = ride_along([(A, lonlat([(20.0, 0.0), (580.0, 0.0)]), 1)], GRID_ORIGIN,
                      np.random.default_rng(3), sigma=SIGMA, stop_at=220.0, stop_s=90.0)
    r = match_ride(grid, ride.lon, ride.lat, ride.t)
    on_a = passes_of(r, A)
    assert len(on_a) == 1 and on_a[0].direction == 1
    assert share(r.direction[r.way_id == A] == 1) >= 0.98


def test_identical_fixes_while_waiting_keep_direction(grid):
    """Receivers repeat the last fix while standing: 60 identical fixes mid-ride."""
    ride = ride_along([(A, lonlat([(580.0, 0.0), (20.0, 0.0)]), -1)], GRID_ORIGIN,
                      np.random.default_rng(9), sigma=SIGMA)
    k = 50
    lon = np.concatenate([ride.lon[:k], np.full(60, ride.lon[k]), ride.lon[k:]])
    lat = np.concatenate([ride.lat[:k], np.full(60, ride.lat[k]), ride.lat[k:]])
    r = match_ride(grid, lon, lat, np.arange(len(lon), dtype=np.float64))
    on_a = passes_of(r, A)
    assert len(on_a) == 1 and on_a[0].direction == -1
    assert np.all(r.direction[k:k + 60] == -1)


def test_standing_still_all_the_time_has_no_direction(grid):
    rng = np.random.default_rng(4)
    lon, lat = GRID_ORIGIN.to_lonlat(80.0 + rng.normal(0, 2.0, 30), rng.normal(0, 2.0, 30))
    r = match_ride(grid, lon, lat, np.arange(30.0))
    assert np.all(r.way_id == A)
    assert np.all(r.direction == 0)


# --- turning at a junction ----------------------------------------------------------------

@pytest.mark.parametrize(("seed", "crossing", "north"), [(5, C2, True), (6, C1, False),
                                                          (7, C3, True)])
def test_turn_onto_crossing_street(grid, seed, crossing, north):
    x = CROSSING_X[crossing]
    end_y = 230.0 if north else -230.0
    legs = [(A, lonlat([(20.0, 0.0), (x, 0.0)]), 1),
            (crossing, lonlat([(x, 0.0), (x, end_y)]), 1 if north else -1)]
    ride = ride_along(legs, GRID_ORIGIN, np.random.default_rng(seed), sigma=SIGMA)
    r = match_ride(grid, ride.lon, ride.lat, ride.t)
    assert [(p.way_id, p.direction) for p in r.passes
            if p.last_index - p.first_index >= 2] == [(A, 1), (crossing, 1 if north else -1)]
    assert share(r.way_id == ride.truth_way) >= 0.95
    # the turn is where the ride turned: within 3 fixes (15 m) of it, given 6 m noise
    turn = int(np.flatnonzero(ride.truth_way == crossing)[0])
    first_on_crossing = passes_of(r, crossing)[0].first_index
    assert abs(first_on_crossing - turn) <= 3


# --- parallel streets ---------------------------------------------------------------------

@pytest.mark.parametrize("gap", [20.0, 30.0])
def test_parallel_street_close_by_is_not_taken(gap):
    """Two parallel two-way streets gap metres apart, linked at both ends and in the middle:
    a ride on either stays on it."""
    ways = [grid_way(A, [(0.0, 0.0), (300.0, 0.0), (600.0, 0.0)]),
            grid_way(P, [(0.0, gap), (300.0, gap), (600.0, gap)]),
            grid_way(C1, [(0.0, 0.0), (0.0, gap)]),
            grid_way(C2, [(300.0, 0.0), (300.0, gap)]),
            grid_way(C3, [(600.0, 0.0), (600.0, gap)])]
    net = RoadNetwork.from_ways(ways)
    for seed, (way_id, y) in enumerate([(A, 0.0), (P, gap)]):
        ride = ride_along([(way_id, lonlat([(590.0, y), (10.0, y)]), -1)], GRID_ORIGIN,
                          np.random.default_rng(10 + seed), sigma=SIGMA)
        r = match_ride(net, ride.lon, ride.lat, ride.t)
        assert share(r.way_id == way_id) >= 0.95, (way_id, gap)
        assert share(r.direction[r.way_id == way_id] == -1) >= 0.95
        assert len(passes_of(r, way_id)) == 1


@pytest.mark.parametrize("oneway", ["yes", "-1"])
def test_contraflow_on_a_oneway_is_matched(oneway):
    """Cyclists ride against a oneway now and then (legally where oneway:bicycle=no): it
    costs something, it is not impossible, even with a two-way street 30 m away."""
    ways = [grid_way(A, [(0.0, 0.0), (300.0, 0.0), (600.0, 0.0)], oneway=oneway),
            grid_way(P, [(0.0, 30.0), (300.0, 30.0), (600.0, 30.0)]),
            grid_way(C1, [(0.0, 0.0), (0.0, 30.0)]),
            grid_way(C3, [(600.0, 0.0), (600.0, 30.0)])]
    net = RoadNetwork.from_ways(ways)
    against = -oneway_sign(oneway)
    path = [(20.0, 0.0), (580.0, 0.0)][::against]
    ride = ride_along([(A, lonlat(path), against)], GRID_ORIGIN, np.random.default_rng(12),
                      sigma=SIGMA)
    r = match_ride(net, ride.lon, ride.lat, ride.t)
    assert share(r.way_id == A) >= 0.95
    assert share(r.direction[r.way_id == A] == against) >= 0.95


# --- leaving the mapped network -----------------------------------------------------------

def test_stretch_off_the_network_breaks_the_chain(grid):
    rng = np.random.default_rng(8)
    before = ride_along([(A, lonlat([(20.0, 0.0), (170.0, 0.0)]), 1)], GRID_ORIGIN, rng,
                        sigma=SIGMA)
    after = ride_along([(A, lonlat([(330.0, 0.0), (580.0, 0.0)]), 1)], GRID_ORIGIN, rng,
                       sigma=SIGMA)
    # 20 fixes in a park 200 m south of A, halfway between C1 and C2 (75 m either side)
    park_x = np.linspace(215.0, 235.0, 20) + rng.normal(0, SIGMA, 20)
    park_lon, park_lat = GRID_ORIGIN.to_lonlat(park_x, -200.0 + rng.normal(0, SIGMA, 20))
    lon = np.concatenate([before.lon, park_lon, after.lon])
    lat = np.concatenate([before.lat, park_lat, after.lat])
    r = match_ride(grid, lon, lat, np.arange(len(lon), dtype=np.float64))
    n0, n1 = len(before.lon), len(before.lon) + 20
    assert np.all(r.way_id[n0:n1] == -1)
    assert np.all(np.isnan(r.lon[n0:n1])) and np.all(r.direction[n0:n1] == 0)
    assert share(r.way_id[:n0] == A) >= 0.95 and share(r.way_id[n1:] == A) >= 0.95
    assert list(r.chain_starts) == [0, n1]
    assert [(p.way_id, p.direction) for p in r.passes if p.last_index - p.first_index >= 2] \
        == [(A, 1), (A, 1)]
    # the route length counts the mapped parts only, not the gap
    assert r.route_length_m == pytest.approx(150.0 + 250.0, abs=50.0)


def test_no_fix_near_any_way_and_empty_input(grid):
    lon, lat = GRID_ORIGIN.to_lonlat(np.full(5, 5000.0), np.zeros(5))
    r = match_ride(grid, lon, lat, np.arange(5.0))
    assert np.all(r.way_id == -1) and r.passes == [] and len(r.chain_starts) == 0
    r = match_ride(grid, np.array([]), np.array([]), np.array([]))
    assert len(r.way_id) == 0 and r.passes == []


# --- the network --------------------------------------------------------------------------

def test_junctions_come_from_shared_vertices(grid):
    # A's inner vertices are shared with C1..C3: A is cut into 4 pieces there, P likewise;
    # each crossing street is cut at A and at P into 3 pieces
    pieces_per_way = np.bincount(grid.piece_way)
    by_id = dict(zip(grid.way_ids.tolist(), pieces_per_way.tolist(), strict=True))
    assert by_id == {A: 4, P: 4, C1: 3, C2: 3, C3: 3}
    assert grid.n_nodes == 5 * 2 + 3 * 2  # A's and P's 5 vertices, crossing-street ends
    gx, gy = GRID_ORIGIN.to_xy(*grid.projection.to_lonlat(grid.node_x, grid.node_y))
    node = {(round(float(x)), round(float(y))): k
            for k, (x, y) in enumerate(zip(gx, gy, strict=True))}
    # the shortest way from A's start to P's start goes round by C1: 150 + 25 + 150 m
    src, dst = np.array([node[(0, 0)]]), np.array([node[(0, 25)]])
    assert grid.route_lengths(src, dst, np.array([1000.0]))[0] == pytest.approx(325.0, abs=0.5)
    assert np.isinf(grid.route_lengths(src, dst, np.array([300.0]))[0])  # beyond the limit


@pytest.mark.parametrize("bent_first", [True, False])
def test_two_ways_between_the_same_junctions_the_route_takes_the_shorter(bent_first):
    # a street (100 m) and a cycle track bent round beside it (140 m) both join (0, 0) and
    # (100, 0): the graph holds two edges between those nodes, and the route is the street's
    straight = grid_way(1, [(0.0, 0.0), (100.0, 0.0)])
    bent = grid_way(2, [(0.0, 0.0), (50.0, 48.99), (100.0, 0.0)], highway="cycleway")
    net = RoadNetwork.from_ways([bent, straight] if bent_first else [straight, bent])
    gx, gy = GRID_ORIGIN.to_xy(*net.projection.to_lonlat(net.node_x, net.node_y))
    node = {round(float(x)): k for k, (x, y) in enumerate(zip(gx, gy, strict=True))
            if abs(y) < 1.0}
    lengths = net.route_lengths(np.array([node[0], node[100]]), np.array([node[100], node[0]]),
                                np.array([200.0, 200.0]))
    assert lengths == pytest.approx([100.0, 100.0], abs=0.5)


def test_oneway_values():
    assert [oneway_sign(v) for v in ("yes", "1", "true", "-1", "reverse", "no", None, "x")] \
        == [1, 1, 1, -1, -1, 0, 0, 0]


# --- real streets -------------------------------------------------------------------------

@pytest.fixture(scope="module")
def oslo():
    ways = read_ways(OSLO_PBF)
    return ways, RoadNetwork.from_ways(ways.ways)


# Real Oslo streets (extract of 2019): two two-way residential streets that cross in the
# middle of both, at a vertex they share (index 10 of the first, 6 of the second)
SORGENFRIGATA, SORGENFRIGATA_AT = 4548837, 10
HAMMERSTADS_GATE, HAMMERSTADS_GATE_AT = 4548855, 6


def test_the_oslo_streets_are_what_the_tests_expect(oslo):
    ways, _ = oslo
    assert ways.names[SORGENFRIGATA] == "Sorgenfrigata"
    assert ways.names[HAMMERSTADS_GATE] == "Hammerstads gate"
    assert tuple(ways.coords[SORGENFRIGATA][SORGENFRIGATA_AT]) == \
        tuple(ways.coords[HAMMERSTADS_GATE][HAMMERSTADS_GATE_AT])


@pytest.mark.parametrize("direction", [1, -1])
def test_real_street_in_oslo_each_direction(oslo, direction):
    ways, net = oslo
    coords = ways.coords[SORGENFRIGATA]
    path = coords if direction > 0 else coords[::-1]
    ride = ride_along([(SORGENFRIGATA, path, direction)], net.projection,
                      np.random.default_rng(20 + direction), sigma=SIGMA_OSLO)
    r = match_ride(net, ride.lon, ride.lat, ride.t)
    assert share(r.way_id == SORGENFRIGATA) >= 0.95
    assert share(r.direction[r.way_id == SORGENFRIGATA] == direction) >= 0.95
    on_street = passes_of(r, SORGENFRIGATA)
    assert len(on_street) == 1 and on_street[0].direction == direction


def test_real_turn_in_oslo(oslo):
    """Ride Sorgenfrigata east to Hammerstads gate and turn into it (against its digitised
    direction)."""
    ways, net = oslo
    legs = [(SORGENFRIGATA, part_of_way(ways.coords[SORGENFRIGATA], 0, SORGENFRIGATA_AT), 1),
            (HAMMERSTADS_GATE,
             part_of_way(ways.coords[HAMMERSTADS_GATE], HAMMERSTADS_GATE_AT, 0), -1)]
    ride = ride_along(legs, net.projection, np.random.default_rng(22), sigma=SIGMA_OSLO)
    r = match_ride(net, ride.lon, ride.lat, ride.t)
    assert share(r.way_id == ride.truth_way) >= 0.95
    assert [(p.way_id, p.direction) for p in r.passes if p.last_index - p.first_index >= 2] \
        == [(SORGENFRIGATA, 1), (HAMMERSTADS_GATE, -1)]
    turn = int(np.flatnonzero(ride.truth_way == HAMMERSTADS_GATE)[0])
    assert abs(passes_of(r, HAMMERSTADS_GATE)[0].first_index - turn) <= 3


# Streets a random ride may take (sidewalks, paths and steps stay in the network as
# distractors, as they are in the database)
RIDEABLE = frozenset({"residential", "tertiary", "secondary", "primary", "unclassified",
                      "cycleway", "living_street", "service"})


@pytest.mark.parametrize("seed", [3, 6])
def test_random_ride_over_oslo(oslo, seed):
    """A 15-minute ride over real streets (with the oneways, mostly straight on, turning at
    random), 6 m noise: the way and direction of most fixes are right. Without the route
    distances of the transitions 75-82 % are, without the heading term 83-87 %."""
    ways, net = oslo
    rng = np.random.default_rng(seed)
    ride = ride_along(random_route(net, rng, 4600.0, RIDEABLE), net.projection, rng,
                      sigma=SIGMA)
    r = match_ride(net, ride.lon, ride.lat, ride.t)
    assert share((r.way_id == ride.truth_way) & (r.direction == ride.truth_dir)) >= 0.92
    assert list(r.chain_starts) == [0]


# --- GraphHopper's Andorra case -----------------------------------------------------------

def test_andorra_gpx_like_graphhopper():
    """GraphHopper's MapMatchingAndorraTest (issue #3023) matches this drawn GPX (CG-2 near
    Soldeu, no timestamps) with a bike profile and sigma 20 m, and asserts that the matched
    length is less than 1.5 times the GPX length (no dead-end detours or backtracking).
    We assert that, and more: the GPX follows the Carretera General and the road that
    continues it east, without a gap, a U-turn or a side street."""
    ways = read_ways(ANDORRA_PBF)
    net = RoadNetwork.from_ways(ways.ways)
    lon, lat = read_gpx_points(ANDORRA_GPX)
    gpx_length = float(step_lengths_m(lon, lat).sum())
    r = match_ride(net, lon, lat, times_at_speed(lon, lat, 5.0), sigma=20.0)
    assert np.all(r.way_id >= 0) and list(r.chain_starts) == [0]
    assert r.route_length_m / gpx_length < 1.5  # GraphHopper's assertion
    assert r.route_length_m == pytest.approx(gpx_length, rel=0.05)
    assert [(ways.names[p.way_id], p.direction) for p in r.passes] == [
        ("Carretera General", -1), (None, 1)]
    assert [p.way_id for p in r.passes] == [177526454, 23857247]


# --- memory: transitions in blocks ----------------------------------------------------------

def test_transitions_computed_block_by_block_match_the_whole_ride_exactly(grid, monkeypatch):
    """A day-long ride's transitions are built in blocks so memory stays bounded; the
    result must be the one the whole ride at once gives."""
    from matching_and_import_db.rides import mapmatch
    legs = [(A, lonlat([(20.0, 0.0), (CROSSING_X[C2], 0.0)]), 1),
            (C2, lonlat([(CROSSING_X[C2], 0.0), (CROSSING_X[C2], 230.0)]), 1)]
    ride = ride_along(legs, GRID_ORIGIN, np.random.default_rng(5), sigma=SIGMA)
    whole = match_ride(grid, ride.lon, ride.lat, ride.t)
    monkeypatch.setattr(mapmatch, "TRANSITION_BLOCK", 7)
    blocks = match_ride(grid, ride.lon, ride.lat, ride.t)
    assert len(ride.t) > 3 * 7
    np.testing.assert_array_equal(blocks.way_id, whole.way_id)
    np.testing.assert_array_equal(blocks.along, whole.along)
    np.testing.assert_array_equal(blocks.direction, whole.direction)
    assert blocks.passes == whole.passes
    assert blocks.route_length_m == whole.route_length_m
# --- who may ride where: sidewalks, bus lanes, cycle tracks, junctions --------------------

SIDEWALK, BUS_LANE, CYCLE_TRACK = 21, 22, 23


def street_with(beside: tuple, y: float) -> RoadNetwork:
    """Street A along y=0 from x=0 to 600, with a way `beside` it at y, joined to the street
    by short links at both ends (as mapped sidewalks meet their street at crossings)."""
    way_id, highway, access = beside
    return RoadNetwork.from_ways([
        grid_way(A, [(0.0, 0.0), (300.0, 0.0), (600.0, 0.0)]),
        grid_way(way_id, [(0.0, y), (300.0, y), (600.0, y)], highway=highway, access=access),
        grid_way(C1, [(0.0, 0.0), (0.0, y)], highway="footway", access={}),
        grid_way(C3, [(600.0, 0.0), (600.0, y)], highway="footway", access={})])


@pytest.mark.parametrize("seed", [31, 32, 33])
def test_a_ride_along_a_street_with_a_mapped_sidewalk_snaps_to_the_street(seed):
    """The sidewalk lies 5 m beside the street and the GPS error drifts 3 m towards it:
    by distance the sidewalk is the nearer way for most of the ride."""
    net = street_with((SIDEWALK, "footway", {"footway": "sidewalk"}), 5.0)
    rng = np.random.default_rng(seed)
    ride = ride_along([(A, lonlat([(20.0, 0.0), (580.0, 0.0)]), 1)], GRID_ORIGIN, rng,
                      sigma=0.0, stop_at=300.0, stop_s=40.0)
    ride = with_drift(ride, GRID_ORIGIN, rng, sigma=3.0, offset=(0.0, 3.0))
    r = match_ride(net, ride.lon, ride.lat, ride.t)
    assert share(r.way_id == A) >= 0.98
    # the same fixes with the sidewalk taken for a street: it takes a good part of them
    bare = RoadNetwork.from_ways([grid_way(A, [(0.0, 0.0), (600.0, 0.0)]),
                                  grid_way(SIDEWALK, [(0.0, 5.0), (600.0, 5.0)])])
    assert share(match_ride(bare, ride.lon, ride.lat, ride.t).way_id == A) < 0.9


def test_a_footway_is_used_where_nothing_rideable_is_near(grid):
    """A path through a park, 60 m from any street: the ride is matched to it."""
    ways = [grid_way(A, [(0.0, 0.0), (600.0, 0.0)]),
            grid_way(SIDEWALK, [(0.0, 60.0), (600.0, 60.0)], highway="footway", access={})]
    net = RoadNetwork.from_ways(ways)
    ride = ride_along([(SIDEWALK, lonlat([(20.0, 60.0), (580.0, 60.0)]), 1)], GRID_ORIGIN,
                      np.random.default_rng(34), sigma=4.0)
    assert share(match_ride(net, ride.lon, ride.lat, ride.t).way_id == SIDEWALK) >= 0.95


@pytest.mark.parametrize("seed", [41, 42])
def test_a_bus_lane_beside_the_street_is_avoided(seed):
    """A bus-only lane mapped as its own way (highway=service, psv=yes, vehicle=no) 4 m
    beside the street, the GPS error drifting towards it."""
    net = street_with((BUS_LANE, "service", {"psv": "yes", "vehicle": "no"}), 4.0)
    rng = np.random.default_rng(seed)
    ride = ride_along([(A, lonlat([(580.0, 0.0), (20.0, 0.0)]), -1)], GRID_ORIGIN, rng,
                      sigma=0.0)
    ride = with_drift(ride, GRID_ORIGIN, rng, sigma=3.0, offset=(0.0, 3.0))
    r = match_ride(net, ride.lon, ride.lat, ride.t)
    assert share(r.way_id == A) >= 0.98


@pytest.mark.parametrize("seed", [51, 52])
def test_a_cycle_track_of_its_own_is_used(seed):
    """A cycle track 12 m beside the street: a ride on it is matched to it, a ride on the
    street to the street."""
    net = street_with((CYCLE_TRACK, "cycleway", {}), 12.0)
    for way_id, y in ((CYCLE_TRACK, 12.0), (A, 0.0)):
        rng = np.random.default_rng(seed)
        ride = ride_along([(way_id, lonlat([(20.0, y), (580.0, y)]), 1)], GRID_ORIGIN, rng,
                          sigma=0.0)
        ride = with_drift(ride, GRID_ORIGIN, rng, sigma=3.0)
        r = match_ride(net, ride.lon, ride.lat, ride.t)
        assert share(r.way_id == way_id) >= 0.95, way_id


def test_a_fix_at_a_junction_belongs_to_the_way_the_ride_continues_on():
    """Fixes exactly on shared vertices: where the ride turns from A onto C1, and where A
    ends and A2 carries the street on."""
    A2 = 3
    net = RoadNetwork.from_ways([
        grid_way(A, [(0.0, 0.0), (150.0, 0.0), (300.0, 0.0)]),
        grid_way(A2, [(300.0, 0.0), (600.0, 0.0)]),
        grid_way(C1, [(150.0, -200.0), (150.0, 0.0), (150.0, 200.0)])])
    straight = [(float(x), 0.0) for x in range(200, 401, 5)]  # through x=300, A → A2
    turning = [(float(x), 0.0) for x in range(20, 151, 5)] + \
        [(150.0, float(y)) for y in range(5, 151, 5)]  # A, then north on C1 from x=150
    for xy, node, after in ((straight, (300.0, 0.0), A2), (turning, (150.0, 0.0), C1)):
        x, y = np.asarray(xy).T
        lon, lat = GRID_ORIGIN.to_lonlat(x, y)
        r = match_ride(net, lon, lat, np.arange(len(x), dtype=float))
        at = xy.index(node)
        assert r.way_id[at] == after, (node, r.way_id[at - 1:at + 2])
        assert r.way_id[at - 1] != after and r.way_id[at + 1] == after


@pytest.mark.parametrize(("highway", "access", "cost", "motor_traffic"), [
    ("residential", {}, 0.0, True),
    ("primary", {"sidewalk": "separate"}, 0.0, True),
    ("cycleway", {}, 0.0, False),
    ("footway", {"footway": "sidewalk"}, roadclass.COST_FOOT, False),
    ("footway", {"footway": "sidewalk", "bicycle": "yes"}, roadclass.COST_FOOT, False),
    ("path", {"bicycle": "designated"}, roadclass.COST_SHARED_PATH, False),
    ("pedestrian", {}, roadclass.COST_FOOT, False),
    ("steps", {}, roadclass.COST_FORBIDDEN, False),
    ("service", {"psv": "yes", "vehicle": "no"}, roadclass.COST_BUS_ONLY, True),
    ("service", {"bus": "designated", "motor_vehicle": "no", "bicycle": "yes"}, 0.0, True),
    ("service", {}, roadclass.COST_SERVICE, True),
    ("service", {"service": "parking_aisle"}, roadclass.COST_SERVICE_MINOR, True),
    ("residential", {"motor_vehicle": "no"}, 0.0, False),
    ("unclassified", {"motor_vehicle": "no", "bus": "designated"}, 0.0, True),
    ("service", {"motor_vehicle": "no", "psv": "yes"}, roadclass.COST_BUS_ONLY, True),
    ("trunk", {"motorroad": "yes"}, roadclass.COST_FORBIDDEN, True),
    ("trunk", {"bicycle": "no"}, roadclass.COST_FORBIDDEN, True),
    ("track", {}, 0.0, True),
    ("busway", {}, roadclass.COST_BUS_ONLY, False),
])
def test_road_classes_for_the_matcher_and_for_overtaking(highway, access, cost, motor_traffic):
    assert roadclass.ride_cost(highway, access) == cost
    assert roadclass.carries_motor_traffic(highway, access) is motor_traffic


def test_oneway_bicycle_no_opens_a_oneway_to_cyclists():
    net = RoadNetwork.from_ways([grid_way(A, [(0.0, 0.0), (100.0, 0.0)], oneway="yes",
                                          access={"oneway:bicycle": "no"}),
                                 grid_way(P, [(0.0, 9.0), (100.0, 9.0)], oneway="yes")])
    assert net.way_oneway.tolist() == [0, 1]


@pytest.mark.parametrize("seed", [61, 62])
def test_a_way_boundary_before_a_turn_is_crossed_where_the_ride_crosses_it(seed):
    """The street is two ways, A up to x=100 and A2 on to the corner at x=200, where the ride
    turns north onto C1. The GPS error lies 4 m ahead along the street (plus a little drift):
    on A and A2 nothing across the street shows it, so each fix's projection is 4 m ahead
    and the last fixes on A fall onto A2. After the turn the same error lies across C1;
    carried back along the ride, it puts those fixes back on A."""
    A2 = 3
    net = RoadNetwork.from_ways([
        grid_way(A, [(0.0, 0.0), (100.0, 0.0)]),
        grid_way(A2, [(100.0, 0.0), (200.0, 0.0)]),
        grid_way(C1, [(200.0, 0.0), (200.0, 300.0)])])
    rng = np.random.default_rng(seed)
    ride = ride_along([(A, lonlat([(2.0, 0.0), (100.0, 0.0)]), 1),
                       (A2, lonlat([(100.0, 0.0), (200.0, 0.0)]), 1),
                       (C1, lonlat([(200.0, 0.0), (200.0, 290.0)]), 1)],
                      GRID_ORIGIN, rng, sigma=0.0)
    true_x, true_y = GRID_ORIGIN.to_xy(ride.lon, ride.lat)
    ride = with_drift(ride, GRID_ORIGIN, rng, sigma=0.5, offset=(4.0, 0.0))
    r = match_ride(net, ride.lon, ride.lat, ride.t)
    # the fixes on A more than a metre before the boundary, that the error pushes past it
    last_on_a = (true_y == 0.0) & (true_x > 100.0 - 4.0) & (true_x < 99.0)
    assert last_on_a.sum() >= 1
    assert np.all(r.way_id[last_on_a] == A), r.way_id[last_on_a]
    assert np.all(r.way_id[(true_y == 0.0) & (true_x > 101.0) & (true_x < 195.0)] == A2)


@pytest.mark.parametrize("seed", range(5))
def test_a_way_of_a_few_metres_in_the_middle_of_a_street_is_ridden(seed):
    """OSM splits a street into ways at bridges, tag changes and junctions: here a 10 m way
    B between A and A3, ridden straight through. The fixes on B are matched to B (events
    and statistics there are B's), not to A held at its end node until the ride is on A3."""
    B, A3 = 3, 4
    net = RoadNetwork.from_ways([grid_way(A, [(0.0, 0.0), (100.0, 0.0)]),
                                 grid_way(B, [(100.0, 0.0), (110.0, 0.0)]),
                                 grid_way(A3, [(110.0, 0.0), (300.0, 0.0)])])
    rng = np.random.default_rng(seed)
    ride = ride_along([(A, lonlat([(2.0, 0.0), (100.0, 0.0)]), 1),
                       (B, lonlat([(100.0, 0.0), (110.0, 0.0)]), 1),
                       (A3, lonlat([(110.0, 0.0), (290.0, 0.0)]), 1)],
                      GRID_ORIGIN, rng, sigma=0.0)
    true_x, _ = GRID_ORIGIN.to_xy(ride.lon, ride.lat)
    ride = with_drift(ride, GRID_ORIGIN, rng, sigma=0.5)
    r = match_ride(net, ride.lon, ride.lat, ride.t)
    on_b = (true_x > 101.0) & (true_x < 109.0)  # more than a metre from either end
    assert on_b.sum() >= 1
    assert np.all(r.way_id[on_b] == B), r.way_id[on_b]
    assert [p.way_id for p in r.passes] == [A, B, A3]


def test_a_fix_snapped_just_short_of_a_way_boundary_stays_on_its_way():
    """A street split into two ways at x=100, ridden east; every fix lies 0.8 m ahead of
    the rider. The fix at x=98.5 is snapped 0.7 m short of the boundary: it is on the first
    way, where the rider is, not moved onto the next one because it is close to the node."""
    B2 = 5
    net = RoadNetwork.from_ways([grid_way(A, [(0.0, 0.0), (100.0, 0.0)]),
                                 grid_way(B2, [(100.0, 0.0), (300.0, 0.0)])])
    ride = ride_along([(A, lonlat([(3.5, 0.0), (100.0, 0.0)]), 1),
                       (B2, lonlat([(100.0, 0.0), (290.0, 0.0)]), 1)],
                      GRID_ORIGIN, np.random.default_rng(0), sigma=0.0)
    true_x, _ = GRID_ORIGIN.to_xy(ride.lon, ride.lat)
    lon, lat = GRID_ORIGIN.to_lonlat(true_x + 0.8, np.zeros(len(true_x)))
    r = match_ride(net, lon, lat, ride.t)
    short = np.flatnonzero(np.isclose(true_x, 98.5))
    assert len(short) == 1
    assert r.way_id[short[0]] == A
    assert np.all(r.way_id[true_x < 100.0] == A) and np.all(r.way_id[true_x > 100.0] == B2)


def test_a_fix_beside_a_bend_is_placed_by_its_time_not_given_to_the_next_way():
    """The ride goes east on A to x=100, then turns north on N. The fix 2 m before the
    corner lies 3 m beyond it to the south-east, so it projects onto the corner vertex from
    both ways alike. Halfway in time between a fix 7 m before the corner and one 3 m after
    it, it is before the corner: on A, where the rider is."""
    N = 6
    net = RoadNetwork.from_ways([grid_way(A, [(0.0, 0.0), (100.0, 0.0)]),
                                 grid_way(N, [(100.0, 0.0), (100.0, 200.0)])])
    ride = ride_along([(A, lonlat([(3.0, 0.0), (100.0, 0.0)]), 1),
                       (N, lonlat([(100.0, 0.0), (100.0, 150.0)]), 1)],
                      GRID_ORIGIN, np.random.default_rng(0), sigma=0.0)
    x, y = GRID_ORIGIN.to_xy(ride.lon, ride.lat)
    beside = np.flatnonzero(np.isclose(x, 98.0) & np.isclose(y, 0.0))
    assert len(beside) == 1
    x[beside], y[beside] = 101.0, -3.0
    lon, lat = GRID_ORIGIN.to_lonlat(x, y)
    r = match_ride(net, lon, lat, ride.t)
    assert r.way_id[beside[0]] == A
    assert [p.way_id for p in r.passes] == [A, N]


@pytest.mark.parametrize("seed", [71, 72])
def test_the_other_carriageway_of_a_dual_carriageway_is_not_taken(seed):
    """Two oneway carriageways 7 m apart, eastbound D1 and westbound D2 (digitised as they
    are driven). The ride goes east on D1 while the GPS error lies 8 m north of it, so that
    for the whole ride D2 is the nearer way: riding it would be riding against its oneway."""
    D1, D2 = 21, 22
    net = RoadNetwork.from_ways([
        grid_way(D1, [(0.0, 0.0), (600.0, 0.0)], oneway="yes", highway="primary"),
        grid_way(D2, [(600.0, 7.0), (0.0, 7.0)], oneway="yes", highway="primary")])
    rng = np.random.default_rng(seed)
    ride = ride_along([(D1, lonlat([(20.0, 0.0), (580.0, 0.0)]), 1)], GRID_ORIGIN, rng,
                      sigma=0.0)
    ride = with_drift(ride, GRID_ORIGIN, rng, sigma=1.0, offset=(0.0, 8.0))
    r = match_ride(net, ride.lon, ride.lat, ride.t)
    assert share(r.way_id == D1) >= 0.98
    assert np.all(r.direction[r.way_id == D1] == 1)


# --- the drift's part along the street, seen by the measured speed ------------------------
# A street split into ways every 25 m (as a street is where crossings and sidewalks are
# mapped), ridden east along y=0. The GPS error lies 3 m north of the street and swings
# along it, 8 m ahead and behind with an 80 s period: nothing across the street shows that
# part, so each fix's projection lies where the error along puts it, past a boundary on the
# next way (the fixes lie 5 m apart, so a swing of 5 m at most reached a boundary). The
# receiver's speed (Doppler) does not swing with the positions: the matcher, given it, sees
# how far the snaps run ahead of the distance ridden.
SPLIT_M = 25.0
SPLIT_WAYS = [100 + k for k in range(16)]


def split_street() -> RoadNetwork:
    return RoadNetwork.from_ways([grid_way(w, [(k * SPLIT_M, 0.0), ((k + 1) * SPLIT_M, 0.0)])
                                  for k, w in enumerate(SPLIT_WAYS)])


def swinging_ride(stop_at: float | None = None, stop_s: float = 0.0):
    """The true x of each fix, the fixes (lon, lat), the times and the measured speed."""
    ride = ride_along([(SPLIT_WAYS[0], lonlat([(5.0, 0.0), (395.0, 0.0)]), 1)], GRID_ORIGIN,
                      np.random.default_rng(0), sigma=0.0, stop_at=stop_at, stop_s=stop_s)
    true_x = 5.0 + ride.route_m
    along = 8.0 * np.sin(2 * np.pi * ride.t / 80.0)
    lon, lat = GRID_ORIGIN.to_lonlat(true_x + along, np.full(len(true_x), 3.0))
    speed = np.gradient(ride.route_m, ride.t)
    return true_x, lon, lat, ride.t, speed


def true_way(true_x: np.ndarray) -> np.ndarray:
    return np.array(SPLIT_WAYS)[np.clip((true_x // SPLIT_M).astype(int), 0, len(SPLIT_WAYS) - 1)]


def test_a_fix_the_error_along_the_street_carries_past_a_way_boundary_stays_on_its_way():
    net = split_street()
    true_x, lon, lat, t, speed = swinging_ride()
    truth = true_way(true_x)
    # more than a metre from a boundary (at a boundary, either way is right)
    clear = np.abs(true_x - SPLIT_M * np.round(true_x / SPLIT_M)) > 1.0
    without = match_ride(net, lon, lat, t)
    assert np.sum((without.way_id != truth) & clear) >= 3  # the fixes this is about
    r = match_ride(net, lon, lat, t, speed=speed)
    wrong = np.flatnonzero((r.way_id != truth) & clear)
    assert len(wrong) == 0, list(zip(true_x[wrong].round(1), r.way_id[wrong], strict=True))


def test_a_wait_just_before_a_way_boundary_stays_on_one_way():
    """The rider waits a minute (a long red light) 2 m before the boundary at x=150 while
    the error swings along the street: every fix of the wait is on the way the rider waits
    on, not some on the next way."""
    net = split_street()
    true_x, lon, lat, t, speed = swinging_ride(stop_at=143.0, stop_s=60.0)
    wait = np.flatnonzero(true_x == 148.0)
    assert len(wait) >= 60
    waited_on = int(true_way(true_x[wait[:1]])[0])
    without = match_ride(net, lon, lat, t)
    assert np.sum(without.way_id[wait] != waited_on) >= 3  # hops across the boundary
    r = match_ride(net, lon, lat, t, speed=speed)
    assert np.all(r.way_id[wait] == waited_on), r.way_id[wait]


@pytest.mark.parametrize("seed", [4, 6])
def test_a_wait_just_before_a_corner_stays_on_the_street_it_waits_on(seed):
    """A street runs east 600 m and turns north; the rider waits a minute 2 m before the
    corner while the receiver's error drifts (4 m). Over the wait the drift moves the fixes
    by metres, round the corner and back; the measured speed says the rider stood, so all
    of that movement is the drift's, and the wait stays on the street it began on (with
    these errors: where the drift estimated before the wait puts it past the corner, the
    whole wait is on the next street)."""
    net = RoadNetwork.from_ways([grid_way(1, [(0.0, 0.0), (600.0, 0.0)], highway="secondary"),
                                 grid_way(2, [(600.0, 0.0), (600.0, 300.0)],
                                          highway="secondary")])
    ride = ride_along([(1, lonlat([(5.0, 0.0), (600.0, 0.0)]), 1),
                       (2, lonlat([(600.0, 0.0), (600.0, 295.0)]), 1)], GRID_ORIGIN,
                      np.random.default_rng(0), sigma=0.0, stop_at=593.0, stop_s=60.0)
    x, y = GRID_ORIGIN.to_xy(ride.lon, ride.lat)
    wait = np.flatnonzero((x[1:] == x[:-1]) & (y[1:] == y[:-1])) + 1
    assert len(wait) >= 59 and np.allclose(x[wait], 598.0)
    error = drifting_error(len(x), 4.0, np.random.default_rng(seed))
    lon, lat = GRID_ORIGIN.to_lonlat(x + error[:, 0], y + error[:, 1])
    speed = np.gradient(ride.route_m, ride.t)
    r = match_ride(net, lon, lat, ride.t, speed=speed)
    assert share(r.way_id[wait] == 1) >= 0.95, r.way_id[wait]
    # with the standing steps seen only through the way each fix was snapped to, most of
    # the wait went round the corner
    through_snaps = replace(DEFAULT_PARAMS, standing_ms=-1.0)
    before = match_ride(net, lon, lat, ride.t, speed=speed, params=through_snaps)
    assert share(before.way_id[wait] == 2) > 0.5


# --- a drifting error that reaches the cycle track beside the street ------------------------
# A street along y=0 with a cycle track 8 m north of it, joined by links every 100 m. The
# receiver's error drifts, as a real one's does: 3 m south of the street, then for a
# minute and a half 8 m north of it, onto the track, then back. Taken fix by fix, the
# fixes of that minute and a half say "the track"; taken as a drift, nothing says the
# rider left the street: the fixes never moved sideways, the error did, slowly.
TRACK_Y = 8.0


def street_with_a_track() -> RoadNetwork:
    xs = [100.0 * k for k in range(11)]
    ways = [grid_way(1, [(x, 0.0) for x in xs], highway="secondary"),
            grid_way(2, [(x, TRACK_Y) for x in xs], highway="cycleway")]
    ways += [grid_way(100 + k, [(x, 0.0), (x, TRACK_Y)], highway="footway")
             for k, x in enumerate(xs)]
    return RoadNetwork.from_ways(ways)


def test_a_drift_onto_the_cycle_track_beside_the_street_keeps_the_ride_on_the_street():
    net = street_with_a_track()
    ride = ride_along([(1, lonlat([(5.0, 0.0), (995.0, 0.0)]), 1)], GRID_ORIGIN,
                      np.random.default_rng(1), sigma=0.0)
    t = ride.t
    north = np.clip((t - 40.0) / 20.0, 0.0, 1.0) * np.clip((160.0 - t) / 20.0, 0.0, 1.0)
    x, y = GRID_ORIGIN.to_xy(ride.lon, ride.lat)
    lon, lat = GRID_ORIGIN.to_lonlat(x + 3.0 * np.sin(t / 30.0), y - 3.0 + 11.0 * north)
    r = match_ride(net, lon, lat, t)
    assert share(r.way_id == 1) == 1.0
    # fix by fix (the first pass alone, with which the drift used to be estimated), four
    # in ten go onto the track
    alone = match_ride(net, lon, lat, t, params=replace(DEFAULT_PARAMS, drift_emission_weight=0.0))
    assert share(alone.way_id == 2) > 0.3
