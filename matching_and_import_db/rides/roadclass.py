"""What a way is to a cyclist and to the cars around them, from its OSM tags.

Two questions, answered from `highway` and the access tags the OSM import keeps
(osm_roads.access: footway, sidewalk*, access, vehicle, motor_vehicle, bicycle, foot, psv,
bus, service, segregated, motorroad, oneway:bicycle):

- ride_cost(): how unlikely it is that a ride is on this way rather than on a street next
  to it, in nats per fix, for the map matcher. A sidewalk mapped as its own way lies 3-7 m
  beside its street, well inside GPS error: by distance alone the two are a coin toss, so
  the matcher needs to know that riders ride the street.
- carries_motor_traffic(): whether motor vehicles pass a rider there, so that overtaking
  events and road statistics count (as the OpenBikeSensor portal's road table, which keeps
  only these highway classes).
"""

from __future__ import annotations

from collections.abc import Mapping

# The OpenBikeSensor portal's roads_import.lua keeps exactly these highway classes in the
# table its events and statistics are counted on (motorways are not ridden at all here).
MOTOR_TRAFFIC_HIGHWAYS = frozenset({
    "trunk", "primary", "secondary", "tertiary", "unclassified", "residential",
    "trunk_link", "primary_link", "secondary_link", "tertiary_link", "living_street",
    "service", "track", "road"})
# ways for people on foot: ridden only where nothing rideable is near
FOOT_HIGHWAYS = frozenset({"footway", "path", "pedestrian", "bridleway", "corridor"})
NO = frozenset({"no", "private"})
YES = frozenset({"yes", "designated", "permissive", "official"})

# Costs in nats per fix (the matcher's emission is -d^2 / 2 sigma^2 with sigma 7 m, so
# 1 nat is what a fix 10 m further away costs). Chosen on the demo extract (oslo-east) and
# checked on a second one (oslo-center) with other seeds: bench/ride_processing.
COST_STREET = 0.0
# a separate cycle track is a real candidate: it is where riders ride
COST_CYCLEWAY = 0.0
# a service road (parking aisle, driveway, the bus lane beside a street): used, but less
# likely than the public street it runs beside
COST_SERVICE = 0.5
COST_SERVICE_MINOR = 1.0  # parking_aisle, driveway, drive-through
# a bus-only lane (psv/bus yes, other vehicles no): a cyclist rides it only where signed
COST_BUS_ONLY = 2.0
# a footway or path where cycling is allowed (bicycle=yes/designated): shared paths
COST_SHARED_PATH = 0.7
# a sidewalk, footway, path or pedestrian street: only where no street is near. At 2 nats
# per fix it takes the street being about 13 m further than the footway (sigma 7) before a
# fix goes to the footway instead
COST_FOOT = 2.0
# steps, or a way where bicycles are banned
COST_FORBIDDEN = 4.0


def _get(access: Mapping[str, str] | None, key: str) -> str | None:
    if not access:
        return None
    value = access.get(key)
    return value.strip().lower() if isinstance(value, str) else None


def is_sidewalk(highway: str, access: Mapping[str, str] | None) -> bool:
    return highway in FOOT_HIGHWAYS and _get(access, "footway") == "sidewalk"


def is_bus_only(access: Mapping[str, str] | None) -> bool:
    """psv or bus allowed while other vehicles are not (a bus lane mapped as its own way)."""
    buses = _get(access, "psv") in YES or _get(access, "bus") in YES
    others_banned = (_get(access, "vehicle") in NO or _get(access, "motor_vehicle") in NO
                     or _get(access, "access") in NO)
    return buses and others_banned


def ride_cost(highway: str, access: Mapping[str, str] | None = None) -> float:
    """Nats per fix the matcher charges for placing a ride on this way (0: a street)."""
    bicycle = _get(access, "bicycle")
    if bicycle in NO or highway == "steps":
        return COST_FORBIDDEN
    if _get(access, "motorroad") == "yes" and bicycle not in YES:
        return COST_FORBIDDEN  # a motorroad (Kraftfahrstraße, motortrafikkled): no bicycles
    if highway == "cycleway":
        return COST_CYCLEWAY
    if highway in FOOT_HIGHWAYS:
        if bicycle in YES and not is_sidewalk(highway, access):
            return COST_SHARED_PATH
        return COST_FOOT
    if bicycle in YES:
        return COST_STREET
    # a bus lane mapped as its own way is weighted low; a street closed to motor vehicles
    # but buses (motor_vehicle=no, bus=designated: a bus and tram street) is open to
    # bicycles, which vehicle=no or access=no would ban
    bikes_banned = _get(access, "vehicle") in NO or _get(access, "access") in NO
    if highway == "busway" or (is_bus_only(access) and (bikes_banned or highway == "service")):
        return COST_BUS_ONLY
    if highway == "service":
        minor = _get(access, "service") in {"parking_aisle", "driveway", "drive-through"}
        return COST_SERVICE_MINOR if minor else COST_SERVICE
    if _get(access, "access") in NO or _get(access, "vehicle") in NO:
        return COST_FORBIDDEN
    return COST_STREET


def bicycle_oneway(oneway: str | None, access: Mapping[str, str] | None) -> str | None:
    """The oneway value that holds for bicycles: oneway:bicycle=no opens a oneway street to
    cyclists both ways (contraflow is then legal, and common)."""
    if _get(access, "oneway:bicycle") == "no":
        return None
    return oneway


def carries_motor_traffic(highway: str | None, access: Mapping[str, str] | None = None
                          ) -> bool:
    """Motor vehicles pass a rider here: a road class of the OpenBikeSensor portal's road
    table, not closed to motor vehicles (a bus lane counts: buses overtake there)."""
    if highway not in MOTOR_TRAFFIC_HIGHWAYS:
        return False
    if is_bus_only(access):
        return True
    banned = (_get(access, "motor_vehicle") in {"no"} or _get(access, "vehicle") in {"no"}
              or _get(access, "access") in {"no"})
    return not banned
