"""Every change to what rides show, as one call each, for the scheduler and the web app.

A ride's change touches three things that must agree: the ride's own rows, the road
statistics of the ways it counted in (before and after), and the map tiles over where it
was and is. Each function here does the database part in the caller's transaction and
returns a RideChange; the caller commits and then hands `extent` to the tile cache
(TileInvalidator.changed(RIDES, extent)). None of them commits.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from matching_and_import_db.rides import store
from matching_and_import_db.rides.ride import RideOutputs
from matching_and_import_db.sqlfiles import load_sql
from matching_and_import_db.tilecache import BBox, bbox_union

RoadKeys = set[tuple[int, int]]


@dataclass(frozen=True)
class RideChange:
    """What a change did: the rides it touched, and the lon/lat box over which the map's
    ride layers changed (None: nothing on the map moved)."""

    ride_ids: list[int]
    extent: BBox | None

    @property
    def count(self) -> int:
        return len(self.ride_ids)


def apply_ride_change(cur, ride_ids: Iterable[int],
                      write: Callable[[object], RoadKeys | None]) -> RideChange:
    """The one sequence behind every change to existing rides: the roads they counted in
    and where they lie now → write(cur) (which returns the roads the rides count in
    afterwards, if any) → road statistics of old and new roads recomputed → where they lie
    afterwards. The extent covers both, so tiles showing the old state and tiles that
    will show the new one are invalidated alike."""
    ids = list(ride_ids)
    old_keys = store.road_keys_of(cur, ids)
    before = store.changed_extent(cur, ids, _ways(old_keys))
    new_keys = write(cur) or set()
    store.recompute_road_stats(cur, old_keys | new_keys)
    after = store.changed_extent(cur, ids, _ways(new_keys))
    return RideChange(ids, bbox_union([before, after]))


def publish_ride_outputs(cur, ride_id: int, out: RideOutputs) -> RideChange:
    """A processed ride replaces whatever an earlier processing of it published."""
    def write(cur) -> RoadKeys:
        store.replace_ride_outputs(cur, ride_id, out.events, out.passes)
        store.replace_ride_snaps(cur, ride_id, out.snaps)
        store.complete_ride(cur, ride_id, out.summary)
        return out.keys
    return apply_ride_change(cur, [ride_id], write)


def fail_ride(cur, claim: store.Claim, worker: str, message: str) -> RideChange:
    """A ride whose processing failed keeps nothing of an earlier result: the owner sees
    the error, nobody sees a line or events of a ride that no longer processes (say, one
    now wholly inside a privacy zone), and statistics drop its numbers."""
    def write(cur) -> None:
        store.clear_ride_outputs(cur, claim.ride_id)
        store.fail_ride(cur.connection, claim, worker, message)
    return apply_ride_change(cur, [claim.ride_id], write)


def set_ride_visibility(cur, ride_id: int, public: bool) -> RideChange:
    """Statistics and tiles count public rides only, so they follow the change in the same
    transaction. A ride that already has this visibility changes nothing."""
    def write(cur) -> None:
        cur.execute(_sql("set_ride_visibility.sql"), {"public": public, "ride_id": ride_id})
    cur.execute(_sql("lock_ride_visibility.sql"), {"ride_id": ride_id})
    row = cur.fetchone()
    if row is None or row[0] == public:
        return RideChange([], None)
    return apply_ride_change(cur, [ride_id], write)


def delete_rides(cur, ride_ids: Iterable[int]) -> RideChange:
    """Rides go with their events, passes and snaps (the foreign keys cascade), and the
    statistics lose their share. Raw files are the caller's: they are shared by content."""
    def write(cur) -> None:
        cur.execute(_sql("delete_rides.sql"), {"ride_ids": ids})
    ids = list(ride_ids)
    if not ids:
        return RideChange([], None)
    return apply_ride_change(cur, ids, write)


# --- queueing rides again -------------------------------------------------------------------
# From the statement on they show others nothing (the visibility rule reads the status) and
# the statistics have lost their share; a worker processing one of them loses its claim.

def requeue_rides(cur, ride_ids: Iterable[int]) -> RideChange:
    return _requeued(cur, store.requeue_rides_by_id(cur, list(ride_ids)))


def requeue_rides_of_user(cur, user_id: int) -> RideChange:
    return _requeued(cur, store.requeue_rides_of_user(cur, user_id))


def requeue_every_ride(cur) -> RideChange:
    return _requeued(cur, store.requeue_every_ride(cur))


def requeue_rides_near_zone(cur, user_id: int, lon: float, lat: float,
                            radius_m: float) -> RideChange:
    """A privacy zone was added: see store.requeue_rides_near_zone."""
    return _requeued(cur, store.requeue_rides_near_zone(cur, user_id, lon, lat, radius_m))


def requeue_rides_after_zone_removal(cur, user_id: int) -> RideChange:
    """A privacy zone was removed: see store.requeue_rides_after_zone_removal."""
    return _requeued(cur, store.requeue_rides_after_zone_removal(cur, user_id))


def _requeued(cur, requeued: store.Requeued) -> RideChange:
    """The rest of apply_ride_change's sequence for rides chosen by a condition (so the
    write comes first): their outputs stay until processed again, so the roads and the
    extent are the same before and after."""
    if not requeued.ride_ids:
        return RideChange([], None)
    store.recompute_road_stats(cur, requeued.road_keys)
    return RideChange(requeued.ride_ids, store.changed_extent(
        cur, requeued.ride_ids, _ways(requeued.road_keys)))


def _sql(name: str):
    return load_sql("matching_and_import_db.rides", name)


def _ways(keys: RoadKeys) -> set[int]:
    return {way for way, _ in keys}
