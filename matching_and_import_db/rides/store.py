"""Database side of ride processing: claiming rides, loading the roads near one, and
writing everything a ride produces in one transaction.

Functions take a psycopg2 connection and never commit: the caller owns the transaction,
so a ride's events, passes, ride row and road statistics land together or not at all.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

import orjson
from psycopg2 import sql
from psycopg2.extras import execute_values

from matching_and_import_db.sqlfiles import fetch_as, load_sql, sql_file

# Roads a bicycle does not ride on; matching to them would only add wrong candidates.
NOT_FOR_BICYCLES = ["motorway", "motorway_link"]
# A ride that crashed its worker this many times is not claimed again (error instead).
MAX_ATTEMPTS = 3
PACKAGE = "matching_and_import_db.rides"


class RoadRow(NamedTuple):
    """One road near a ride, as roads_near_ride.sql selects it."""

    osm_id: int
    oneway: str | None
    highway: str
    zone_traffic: str | None
    maxspeed: str | None
    access: dict
    wkb: bytes


class EventRow(NamedTuple):
    """One overtaking event of a ride as ride_events stores it (insert_ride_events.sql)."""

    time: datetime
    distance_left: float | None
    distance_right: float | None
    speed: float | None
    way_id: int | None
    direction: int
    legal_minimum: float
    lon: float
    lat: float


class PassRow(NamedTuple):
    """One pass of a ride along a way in one direction (road_usage)."""

    seq: int
    way_id: int
    direction: int
    time: datetime
    length_m: float


class PrivacyZoneRow(NamedTuple):
    lon: float
    lat: float
    radius_m: float


@dataclass(frozen=True, slots=True)
class Claim:
    ride_id: int
    user_id: int
    raw_sha256: str
    attempts: int


def claim_next_ride(conn, worker: str, lease_seconds: int) -> Claim | None:
    with conn.cursor() as cur:
        cur.execute(load_sql(PACKAGE, "claim_ride.sql"),
                    {"worker": worker, "lease_seconds": lease_seconds})
        claims = fetch_as(cur, Claim)
    conn.commit()
    return claims[0] if claims else None


@dataclass(frozen=True)
class Requeued:
    """Rides just queued again, and the (way, direction) pairs whose statistics they left."""

    ride_ids: list[int]
    road_keys: set[tuple[int, int]]


def claim_holders(conn) -> set[str]:
    """The workers holding a ride under a lease that has not run out."""
    with conn.cursor() as cur:
        cur.execute(load_sql(PACKAGE, "claim_holders.sql"))
        names = {r[0] for r in cur.fetchall()}
    conn.commit()
    return names


def expire_claims(conn, workers: list[str]) -> list[int]:
    """End the leases of rides held by these workers (dead, or this process's own previous
    life): the next claim takes them up at once. Their late writes stay refused, as for
    any expired lease (hold_claim checks the worker, and the next claim replaces it)."""
    with conn.cursor() as cur:
        cur.execute(load_sql(PACKAGE, "expire_claims.sql"), {"workers": list(workers)})
        ids = [r[0] for r in cur.fetchall()]
    conn.commit()
    return ids


def renew_lease(cur, ride_id: int, worker: str, lease_seconds: float) -> bool:
    """Extend this worker's lease on a ride; False once it no longer holds it."""
    cur.execute(load_sql(PACKAGE, "renew_lease.sql"),
                {"lease_seconds": lease_seconds, "ride_id": ride_id, "worker": worker})
    return cur.rowcount == 1


def _requeue_rides(cur, condition: sql.Composable, params: dict) -> Requeued:
    """Queue rides for processing again. From this statement on they show others nothing
    (the visibility rule reads the status); the road statistics they counted in (returned)
    are recomputed by the caller (rides.changes). A worker processing one of them
    loses its claim, so it cannot publish a result made before the change. condition is
    one of the fixed conditions of the requeue_rides_* functions below (never passed in
    from outside this module); its values are bound."""
    cur.execute(load_sql(PACKAGE, "requeue_rides.sql", condition=condition), params)
    ids = [r[0] for r in cur.fetchall()]
    keys = road_keys_of(cur, ids) if ids else set()
    return Requeued(ids, keys)


def requeue_rides_by_id(cur, ride_ids: list[int]) -> Requeued:
    return _requeue_rides(cur, sql.SQL("id = ANY(%(ids)s)"), {"ids": list(ride_ids)})


def requeue_rides_of_user(cur, user_id: int) -> Requeued:
    return _requeue_rides(cur, sql.SQL("user_id = %(uid)s"), {"uid": user_id})


def requeue_every_ride(cur) -> Requeued:
    return _requeue_rides(cur, sql.SQL("true"), {})


def requeue_rides_near_zone(cur, user_id: int, lon: float, lat: float,
                             radius_m: float) -> Requeued:
    """A zone was added: the owner's rides that show anything inside it (their recorded or
    snapped line, or an event), and any being processed right now (which may have read
    the zones before this one), are queued again. Queued rides will read the new zone."""
    return _requeue_rides(cur, sql.SQL(sql_file(PACKAGE, "near_zone_condition.sql")),
                           {"uid": user_id, "lon": lon, "lat": lat, "radius": radius_m})


def requeue_rides_after_zone_removal(cur, user_id: int) -> Requeued:
    """A zone was removed: the rides that had points hidden by a zone, or that failed
    (perhaps for lying wholly inside one), may show more now."""
    return _requeue_rides(cur, sql.SQL(sql_file(PACKAGE, "zone_removed_condition.sql")),
                           {"uid": user_id})


def clear_ride_outputs(cur, ride_id: int) -> None:
    """Everything processing published for a ride: events, passes, its lines and chart
    and the numbers derived from them. A ride whose processing ends in error keeps none of
    an earlier result (a zone drawn over it must not leave its old line behind)."""
    replace_ride_outputs(cur, ride_id, [], [])
    replace_ride_snaps(cur, ride_id, None)
    cur.execute(load_sql(PACKAGE, "clear_ride_outputs.sql"), {"ride_id": ride_id})


def fail_ride(conn, claim: Claim, worker: str, message: str) -> bool:
    """Record an error the owner can read. Only while this worker still holds the ride."""
    with conn.cursor() as cur:
        cur.execute(load_sql(PACKAGE, "fail_ride.sql"),
                    {"message": message, "ride_id": claim.ride_id, "worker": worker})
        return cur.rowcount == 1


def privacy_zones_of(cur, user_id: int) -> list[PrivacyZoneRow]:
    cur.execute(load_sql(PACKAGE, "privacy_zones_of.sql"), {"user_id": user_id})
    return fetch_as(cur, PrivacyZoneRow)


def roads_near(cur, pieces_wkb: list[bytes], lat: float, radius_m: float) -> list[RoadRow]:
    """Roads within radius_m of any of the line pieces (WKB, EPSG:4326)."""
    # The planner's estimate for the pieces join is far too high, which would switch on
    # JIT compilation: 150 ms of compiling for a query that runs in 30.
    cur.execute(load_sql(PACKAGE, "jit_off.sql"))
    cur.execute(load_sql(PACKAGE, "roads_near_ride.sql"), {"pieces": pieces_wkb, "lat": lat,
                                              "radius_m": radius_m,
                                              "excluded": NOT_FOR_BICYCLES})
    return fetch_as(cur, _road_row)


def _road_row(*, access: str, **columns) -> RoadRow:
    # access comes as text: orjson parses it 5x faster than psycopg2's json.loads
    return RoadRow(access=orjson.loads(access), **columns)


def hold_claim(cur, ride_id: int, worker: str) -> bool:
    """Lock the ride row if this worker still holds it: a worker whose lease ran out (and
    whose ride another worker took) must not write."""
    cur.execute(load_sql(PACKAGE, "hold_claim.sql"), {"ride_id": ride_id, "worker": worker})
    return cur.fetchone() is not None


def road_keys_of(cur, ride_ids: Iterable[int]) -> set[tuple[int, int]]:
    """The (way, direction) pairs whose statistics these rides contribute to."""
    cur.execute(load_sql(PACKAGE, "road_keys_of.sql"), {"ids": list(ride_ids)})
    return {(int(w), int(d)) for w, d in cur.fetchall()}


def changed_extent(cur, ride_ids: Iterable[int], way_ids: Iterable[int]
                   ) -> tuple[float, float, float, float] | None:
    """The lon/lat box of these rides (lines and events) and ways: where the map's ride
    layers change when they do. None when there is nothing."""
    cur.execute(load_sql(PACKAGE, "changed_extent.sql"),
                {"ids": list(ride_ids), "ways": list(way_ids)})
    row = cur.fetchone()
    return None if row is None or row[0] is None else tuple(float(v) for v in row)


def recompute_road_stats(cur, keys: Iterable[tuple[int, int]]) -> int:
    keys = sorted(set(keys))
    if not keys:
        return 0
    cur.execute(load_sql(PACKAGE, "recompute_road_stats.sql"), {"way_ids": [k[0] for k in keys],
                                                   "directions": [k[1] for k in keys]})
    return len(keys)


def replace_ride_outputs(cur, ride_id: int, events: list[EventRow],
                          passes: list[PassRow]) -> None:
    cur.execute(load_sql(PACKAGE, "delete_ride_outputs.sql"), {"ride_id": ride_id})
    if events:
        execute_values(
            cur, load_sql(PACKAGE, "insert_ride_events.sql").as_string(cur),
            [(ride_id, *e) for e in events],
            template="(%s, %s, %s, %s, %s, %s, %s, %s, "
                     "ST_SetSRID(ST_MakePoint(%s, %s), 4326))")
    if passes:
        execute_values(cur, load_sql(PACKAGE, "insert_road_usage.sql").as_string(cur),
                       [(ride_id, *p) for p in passes])


def _array_literal(values) -> str:
    """A PostgreSQL array literal of numbers, NaN as NULL: formatting the text here is ten
    times faster than psycopg2 adapting a list of 3,600 Python floats one by one."""
    return "{" + ",".join("NULL" if v != v else repr(v) for v in values.tolist()) + "}"


def replace_ride_snaps(cur, ride_id: int, snaps: dict | None) -> None:
    """snaps: numpy arrays per kept fix (way_id, direction, offset_m, distance_m, lon,
    lat; NaN where unmatched), or None to remove them (a ride that no longer processes)."""
    cur.execute(load_sql(PACKAGE, "delete_ride_snaps.sql"), {"ride_id": ride_id})
    if snaps is not None:
        cur.execute(load_sql(PACKAGE, "insert_ride_snaps.sql"),
                    {"ride_id": ride_id, **{k: _array_literal(v) for k, v in snaps.items()}})


def complete_ride(cur, ride_id: int, summary: dict) -> None:
    cur.execute(load_sql(PACKAGE, "complete_ride.sql"), {**summary, "ride_id": ride_id})
