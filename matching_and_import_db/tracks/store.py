"""Database side of ride processing: claiming rides, loading the roads near one, and
writing everything a ride produces in one transaction.

Functions take a psycopg2 connection and never commit: the caller owns the transaction,
so a ride's events, passes, track row and road statistics land together or not at all.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import NamedTuple

import orjson
from psycopg2.extras import execute_values

# Roads a bicycle does not ride on; matching to them would only add wrong candidates.
NOT_FOR_BICYCLES = ["motorway", "motorway_link"]
# A ride that crashed its worker this many times is not claimed again (error instead).
MAX_ATTEMPTS = 3


@cache
def sql(name: str) -> str:
    return resources.files("matching_and_import_db.tracks").joinpath("sql", name).read_text()


class RoadRow(NamedTuple):
    """One road near a ride, as roads_near_ride.sql selects it."""

    osm_id: int
    oneway: str | None
    highway: str
    zone_traffic: str | None
    maxspeed: str | None
    access: dict
    wkb: bytes


@dataclass(frozen=True, slots=True)
class Claim:
    track_id: int
    user_id: int
    raw_sha256: str
    attempts: int


def claim_next_track(conn, worker: str, lease_seconds: int) -> Claim | None:
    with conn.cursor() as cur:
        cur.execute(sql("claim_track.sql"), {"worker": worker, "lease_seconds": lease_seconds})
        row = cur.fetchone()
    conn.commit()
    return Claim(*row) if row else None


@dataclass(frozen=True)
class Requeued:
    """Rides just queued again, and the (way, direction) pairs whose statistics they left."""

    track_ids: list[int]
    road_keys: set[tuple[int, int]]


def claim_holders(conn) -> set[str]:
    """The workers holding a ride under a lease that has not run out."""
    with conn.cursor() as cur:
        cur.execute("SELECT DISTINCT worker FROM tracks WHERE status = 'processing' "
                    "AND lease_until >= now() AND worker IS NOT NULL")
        names = {r[0] for r in cur.fetchall()}
    conn.commit()
    return names


def expire_claims(conn, workers: list[str]) -> list[int]:
    """End the leases of rides held by these workers (dead, or this process's own previous
    life): the next claim takes them up at once. Their late writes stay refused, as for
    any expired lease (hold_claim checks the worker, and the next claim replaces it)."""
    with conn.cursor() as cur:
        cur.execute("UPDATE tracks SET lease_until = now() - interval '1 second' "
                    "WHERE status = 'processing' AND worker = ANY(%s) RETURNING id",
                    (list(workers),))
        ids = [r[0] for r in cur.fetchall()]
    conn.commit()
    return ids


def renew_lease(cur, track_id: int, worker: str, lease_seconds: float) -> bool:
    """Extend this worker's lease on a ride; False once it no longer holds it."""
    cur.execute("UPDATE tracks SET lease_until = now() + make_interval(secs => %s) "
                "WHERE id = %s AND worker = %s AND status = 'processing'",
                (lease_seconds, track_id, worker))
    return cur.rowcount == 1


def _requeue_tracks(cur, where_sql: str, params: dict) -> Requeued:
    """Queue rides for processing again. From this statement on they show others nothing
    (the visibility rule reads the status); the road statistics they counted in (returned)
    are recomputed by the caller (tracks.changes). A worker processing one of them
    loses its claim, so it cannot publish a result made before the change. where_sql is
    one of the fixed conditions of the requeue_tracks_* functions below (never passed in
    from outside this module); its values are bound."""
    cur.execute("UPDATE tracks SET status = 'queued', status_message = NULL, attempts = 0, "
                "lease_until = NULL, worker = NULL WHERE " + where_sql + " RETURNING id",
                params)
    ids = [r[0] for r in cur.fetchall()]
    keys = road_keys_of(cur, ids) if ids else set()
    return Requeued(ids, keys)


def requeue_tracks_by_id(cur, track_ids: list[int]) -> Requeued:
    return _requeue_tracks(cur, "id = ANY(%(ids)s)", {"ids": list(track_ids)})


def requeue_tracks_of_user(cur, user_id: int) -> Requeued:
    return _requeue_tracks(cur, "user_id = %(uid)s", {"uid": user_id})


def requeue_every_track(cur) -> Requeued:
    return _requeue_tracks(cur, "true", {})


# A privacy zone given as (lon, lat, radius in metres) on the ride's lines and events.
_NEAR_ZONE = ("ST_DWithin({col}::geography, "
              "ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326)::geography, %(radius)s)")


def requeue_tracks_near_zone(cur, user_id: int, lon: float, lat: float,
                             radius_m: float) -> Requeued:
    """A zone was added: the owner's rides that show anything inside it (their recorded or
    snapped line, or an event), and any being processed right now (which may have read
    the zones before this one), are queued again. Queued rides will read the new zone."""
    touches = " OR ".join([
        _NEAR_ZONE.format(col="tracks.geom_raw"), _NEAR_ZONE.format(col="tracks.geom"),
        "EXISTS (SELECT 1 FROM track_events e WHERE e.track_id = tracks.id AND "
        + _NEAR_ZONE.format(col="e.geom") + ")"])
    return _requeue_tracks(
        cur, f"user_id = %(uid)s AND (status = 'processing' OR (status = 'complete' "
             f"AND ({touches})))",
        {"uid": user_id, "lon": lon, "lat": lat, "radius": radius_m})


def requeue_tracks_after_zone_removal(cur, user_id: int) -> Requeued:
    """A zone was removed: the rides that had points hidden by a zone, or that failed
    (perhaps for lying wholly inside one), may show more now."""
    return _requeue_tracks(
        cur, "user_id = %(uid)s AND (status IN ('processing', 'error') "
             "OR (status = 'complete' AND points_private > 0))", {"uid": user_id})


def clear_track_outputs(cur, track_id: int) -> None:
    """Everything processing published for a ride: events, passes, its lines and chart
    and the numbers derived from them. A ride whose processing ends in error keeps none of
    an earlier result (a zone drawn over it must not leave its old line behind)."""
    replace_track_outputs(cur, track_id, [], [])
    replace_track_snaps(cur, track_id, None)
    cur.execute("UPDATE tracks SET geom = NULL, geom_raw = NULL, series = NULL, "
                "events_count = NULL, length_m = NULL, duration_s = NULL, "
                "points_matched = NULL WHERE id = %s", (track_id,))


def fail_track(conn, claim: Claim, worker: str, message: str) -> bool:
    """Record an error the owner can read. Only while this worker still holds the ride."""
    with conn.cursor() as cur:
        cur.execute("UPDATE tracks SET status = 'error', status_message = %s, "
                    "lease_until = NULL, processed_at = now() "
                    "WHERE id = %s AND worker = %s AND status = 'processing'",
                    (message, claim.track_id, worker))
        return cur.rowcount == 1


def privacy_zones_of(cur, user_id: int) -> list[tuple[float, float, float]]:
    cur.execute("SELECT ST_X(center), ST_Y(center), radius_m FROM privacy_zones "
                "WHERE user_id = %s ORDER BY id", (user_id,))
    return cur.fetchall()


def roads_near(cur, pieces_wkb: list[bytes], lat: float, radius_m: float) -> list[RoadRow]:
    """Roads within radius_m of any of the line pieces (WKB, EPSG:4326)."""
    # The planner's estimate for the pieces join is far too high, which would switch on
    # JIT compilation: 150 ms of compiling for a query that runs in 30.
    cur.execute("SET LOCAL jit = off")
    cur.execute(sql("roads_near_ride.sql"), {"pieces": pieces_wkb, "lat": lat,
                                             "radius_m": radius_m,
                                             "excluded": NOT_FOR_BICYCLES})
    return [RoadRow(osm_id, oneway, highway, zone, maxspeed, orjson.loads(access), wkb)
            for osm_id, oneway, highway, zone, maxspeed, access, wkb in cur.fetchall()]


def hold_claim(cur, track_id: int, worker: str) -> bool:
    """Lock the ride row if this worker still holds it: a worker whose lease ran out (and
    whose ride another worker took) must not write."""
    cur.execute("SELECT 1 FROM tracks WHERE id = %s AND worker = %s AND status = 'processing' "
                "FOR UPDATE", (track_id, worker))
    return cur.fetchone() is not None


def road_keys_of(cur, track_ids: Iterable[int]) -> set[tuple[int, int]]:
    """The (way, direction) pairs whose statistics these rides contribute to."""
    ids = list(track_ids)
    cur.execute("SELECT way_id, direction FROM track_events "
                "WHERE track_id = ANY(%(ids)s) AND way_id IS NOT NULL "
                "UNION SELECT way_id, direction FROM road_usage WHERE track_id = ANY(%(ids)s)",
                {"ids": ids})
    return {(int(w), int(d)) for w, d in cur.fetchall()}


def changed_extent(cur, track_ids: Iterable[int], way_ids: Iterable[int]
                   ) -> tuple[float, float, float, float] | None:
    """The lon/lat box of these rides (lines and events) and ways: where the map's ride
    layers change when they do. None when there is nothing."""
    cur.execute("SELECT ST_XMin(b), ST_YMin(b), ST_XMax(b), ST_YMax(b) FROM (SELECT "
                "ST_Extent(g) AS b FROM (SELECT geom AS g FROM tracks WHERE id = ANY(%(ids)s) "
                "UNION ALL SELECT geom FROM track_events WHERE track_id = ANY(%(ids)s) "
                "UNION ALL SELECT geom FROM osm_roads WHERE osm_id = ANY(%(ways)s)) x) y",
                {"ids": list(track_ids), "ways": list(way_ids)})
    row = cur.fetchone()
    return None if row is None or row[0] is None else tuple(float(v) for v in row)


def recompute_road_stats(cur, keys: Iterable[tuple[int, int]]) -> int:
    keys = sorted(set(keys))
    if not keys:
        return 0
    cur.execute(sql("recompute_road_stats.sql"), {"way_ids": [k[0] for k in keys],
                                                  "directions": [k[1] for k in keys]})
    return len(keys)


def replace_track_outputs(cur, track_id: int, events: list[tuple], passes: list[tuple]) -> None:
    """events: (time, distance_left, distance_right, speed, way_id, direction,
    legal_minimum, lon, lat); passes: (seq, way_id, direction, time, length_m)."""
    cur.execute("DELETE FROM track_events WHERE track_id = %s", (track_id,))
    cur.execute("DELETE FROM road_usage WHERE track_id = %s", (track_id,))
    if events:
        execute_values(
            cur,
            "INSERT INTO track_events (track_id, time, distance_left, distance_right, speed, "
            "way_id, direction, legal_minimum, geom) VALUES %s",
            [(track_id, *e[:7], e[7], e[8]) for e in events],
            template="(%s, %s, %s, %s, %s, %s, %s, %s, "
                     "ST_SetSRID(ST_MakePoint(%s, %s), 4326))")
    if passes:
        execute_values(
            cur,
            "INSERT INTO road_usage (track_id, seq, way_id, direction, time, length_m) "
            "VALUES %s",
            [(track_id, *p) for p in passes])


def _array_literal(values) -> str:
    """A PostgreSQL array literal of numbers, NaN as NULL: formatting the text here is ten
    times faster than psycopg2 adapting a list of 3,600 Python floats one by one."""
    return "{" + ",".join("NULL" if v != v else repr(v) for v in values.tolist()) + "}"


def replace_track_snaps(cur, track_id: int, snaps: dict | None) -> None:
    """snaps: numpy arrays per kept fix (way_id, direction, offset_m, distance_m, lon,
    lat; NaN where unmatched), or None to remove them (a ride that no longer processes)."""
    cur.execute("DELETE FROM track_snaps WHERE track_id = %s", (track_id,))
    if snaps is not None:
        cur.execute("INSERT INTO track_snaps (track_id, way_id, direction, offset_m, "
                    "distance_m, lon, lat) VALUES (%(track_id)s, %(way_id)s::bigint[], "
                    "%(direction)s::smallint[], %(offset_m)s::float8[], "
                    "%(distance_m)s::float8[], %(lon)s::float8[], %(lat)s::float8[])",
                    {"track_id": track_id,
                     **{k: _array_literal(v) for k, v in snaps.items()}})


def complete_track(cur, track_id: int, summary: dict) -> None:
    cur.execute(
        """UPDATE tracks SET status = 'complete', status_message = %(message)s,
               lease_until = NULL, processed_at = now(),
               processing_seconds = %(processing_seconds)s,
               file_format = %(file_format)s, device_id = %(device_id)s,
               firmware = %(firmware)s, recorded_at = %(recorded_at)s,
               recorded_until = %(recorded_until)s, duration_s = %(duration_s)s,
               length_m = %(length_m)s, points_total = %(points_total)s,
               points_valid = %(points_valid)s, points_private = %(points_private)s,
               points_matched = %(points_matched)s, events_count = %(events_count)s,
               geom_raw = ST_GeomFromWKB(%(geom_raw)s, 4326),
               geom = ST_GeomFromWKB(%(geom)s, 4326),
               series = %(series)s,
               title = coalesce(title, %(default_title)s)
           WHERE id = %(track_id)s""",
        {**summary, "track_id": track_id})
