"""Processing rides in the scheduler: claim one, parse, clean, snap to the roads, write.

A ride is claimed with FOR UPDATE SKIP LOCKED and a lease, so any number of schedulers can
work the queue. The lease is renewed from a thread while the ride is worked on, so it can
be short however long a ride takes; a worker that dies leaves its ride to be claimed again
as soon as its process is known to be gone (matching_and_import_db.workers, seconds), or
else once the lease runs out. Everything a ride produces commits in one transaction,
replacing what an earlier processing of it wrote, so processing again is idempotent.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np
import shapely

from matching_and_import_db.errors import InputError
from matching_and_import_db.rides import changes, rawstore, store
from matching_and_import_db.rides.cleaning import PrivacyZone
from matching_and_import_db.rides.mapmatch import match_ride
from matching_and_import_db.rides.model import RideLimits
from matching_and_import_db.rides.parse import parse_ride_file
from matching_and_import_db.rides.ride import RoadFacts, prepare_ride, ride_outputs
from matching_and_import_db.rides.roadclass import carries_motor_traffic
from matching_and_import_db.rides.roadnet import RoadNetwork, Way
from matching_and_import_db.tilecache import RIDES, TileInvalidator

log = logging.getLogger(__name__)

MATCH_RADIUS_M = 40.0


@dataclass(frozen=True)
class ProcessingConfig:
    data_dir: str
    lease_seconds: int
    minimum_urban_m: float = 1.5
    minimum_rural_m: float = 2.0
    # the same limits the upload applied (a ride uploaded under larger ones fails readably)
    ride_limits: RideLimits = RideLimits()
    # told after each commit where the map's ride data changed (the tile cache)
    tiles: TileInvalidator | None = None
    # which of these workers are gone (matching_and_import_db.workers); None: leases only
    dead_workers: Callable[[Iterable[str]], set[str]] | None = None


def ways_from_rows(rows: list[store.RoadRow]) -> list[Way]:
    """rows from store.roads_near → the ways RoadNetwork.from_ways takes."""
    if not rows:
        return []
    geoms = shapely.from_wkb([bytes(r.wkb) for r in rows])
    coords, owner = shapely.get_coordinates(geoms, return_index=True)
    starts = np.searchsorted(owner, np.arange(len(rows)))
    parts = np.split(coords, starts[1:])
    return [Way(int(r.osm_id), part, r.oneway, r.highway, r.access)
            for r, part in zip(rows, parts, strict=True)]


def build_network(rows: list[store.RoadRow]) -> tuple[RoadNetwork, dict[int, RoadFacts]]:
    """The network to match against, and what the ride outputs need of each way."""
    return (RoadNetwork.from_ways(ways_from_rows(rows)),
            {int(r.osm_id): RoadFacts(r.zone_traffic, r.maxspeed,
                                      carries_motor_traffic(r.highway, r.access))
             for r in rows})


def process_claimed(conn, claim: store.Claim, worker: str, config: ProcessingConfig) -> str:
    """Process one claimed ride; return its new status ('complete', 'error', or 'lost'
    when another worker took it over meanwhile). Commits."""
    started = time.perf_counter()
    if claim.attempts > store.MAX_ATTEMPTS:
        return _fail(conn, claim, worker, f"processing was interrupted {store.MAX_ATTEMPTS} "
                     "times without finishing; reprocess the ride to try again", config)
    try:
        parsed = parse_ride_file(rawstore.read_raw(config.data_dir, claim.raw_sha256),
                                  limits=config.ride_limits)
        with conn.cursor() as cur:
            zones = [PrivacyZone(*z) for z in store.privacy_zones_of(cur, claim.user_id)]
            ride = prepare_ride(parsed.points, zones)
            rows = store.roads_near(cur, ride.search_pieces_wkb(), float(np.mean(ride.lat)),
                                    MATCH_RADIUS_M + 10)
            network, roads = build_network(rows)
            # the OpenBikeSensor writes the speed its receiver measured; a GPX file's
            # missing speeds are derived from the positions (gpx._measurements), which drift
            # with them and would tell the matcher the drift stood still
            measured_speed = None if parsed.format == "gpx" else ride.speed
            match = match_ride(network, ride.lon, ride.lat, ride.t, ride.course,
                               speed=measured_speed, radius=MATCH_RADIUS_M)
            out = ride_outputs(parsed, ride, match, roads, zones, config.minimum_urban_m,
                               config.minimum_rural_m,
                               processing_seconds=time.perf_counter() - started)
            if not store.hold_claim(cur, claim.ride_id, worker):
                conn.rollback()
                log.warning("ride %s: lease lost to another worker; not writing",
                            claim.ride_id)
                return "lost"
            change = changes.publish_ride_outputs(cur, claim.ride_id, out)
        conn.commit()
        _changed(config, change)
    except InputError as exc:
        conn.rollback()
        return _fail(conn, claim, worker, str(exc), config)
    except Exception:
        conn.rollback()
        log.exception("ride %s: processing failed", claim.ride_id)
        return _fail(conn, claim, worker, "processing failed with an internal error; the "
                     "administrators can see the details in the scheduler's log", config)
    log.info("ride %s: %d points (%d matched), %d events, %d passes in %.3fs",
             claim.ride_id, ride.points_total, out.summary["points_matched"],
             len(out.events), len(out.passes), time.perf_counter() - started)
    return "complete"


def _changed(config: ProcessingConfig, change: changes.RideChange) -> None:
    """After the commit: the map's cached ride tiles over the change are retired (the
    invalidator never raises: a cache hiccup must not fail a committed ride)."""
    if config.tiles is not None:
        config.tiles.changed(RIDES, change.extent)


def _fail(conn, claim: store.Claim, worker: str, message: str,
          config: ProcessingConfig | None = None) -> str:
    """Record the error for the owner, in one transaction with the removal of the ride's
    earlier results (changes.fail_ride)."""
    with conn.cursor() as cur:
        if not store.hold_claim(cur, claim.ride_id, worker):
            conn.rollback()
            return "lost"
        change = changes.fail_ride(cur, claim, worker, message)
    conn.commit()
    if config is not None:
        _changed(config, change)
    log.info("ride %s: error: %s", claim.ride_id, message)
    return "error"


class LeaseRenewal:
    """Renews the lease of the ride being processed, every third of the lease, from a
    thread with a connection of its own (opened at the first renewal: most rides are done
    before it). Leave the block only once the processing connection has ended its
    transaction: after hold_claim that transaction holds the ride's row lock, and a
    renewal waits for it."""

    def __init__(self, connect: Callable, claim: store.Claim, worker: str,
                 lease_seconds: float):
        self._connect, self._claim, self._worker = connect, claim, worker
        self._lease = lease_seconds
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True,
                                        name=f"lease-ride{claim.ride_id}")

    def __enter__(self) -> LeaseRenewal:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stopped.set()
        self._thread.join()

    def _run(self) -> None:
        conn = None
        try:
            while not self._stopped.wait(self._lease / 3):
                if conn is None:
                    conn = self._connect()
                    conn.autocommit = True
                with conn.cursor() as cur:
                    if not store.renew_lease(cur, self._claim.ride_id, self._worker,
                                             self._lease):
                        return  # finished, or taken over: nothing left to renew
        except Exception:  # the lease then runs out, and hold_claim refuses a late write
            log.exception("ride %s: renewing its lease failed", self._claim.ride_id)
        finally:
            if conn is not None:
                conn.close()


def take_back_dead_claims(conn, worker: str, config: ProcessingConfig) -> list[int]:
    """End the leases of rides held by workers whose process is gone, so that they are
    claimed now rather than when their leases run out."""
    if config.dead_workers is None:
        return []
    holders = store.claim_holders(conn) - {worker}
    if not holders:
        return []
    try:
        dead = config.dead_workers(holders)
    except Exception:  # Redis unreachable: nobody is declared dead, leases decide
        log.warning("cannot tell which workers are alive; dead workers' rides wait for "
                    "their leases", exc_info=True)
        return []
    if not dead:
        return []
    ids = store.expire_claims(conn, sorted(dead))
    if ids:
        log.warning("took back ride(s) %s of worker(s) %s, whose process is gone",
                    ", ".join(map(str, ids)), ", ".join(sorted(dead)))
    return ids


def process_pending(connect: Callable, worker: str, config: ProcessingConfig,
                    should_stop: Callable[[], bool] = lambda: False,
                    max_rides: int | None = None) -> int:
    """Work the queue until it is empty (or we are told to stop); return how many rides
    were processed."""
    done = 0
    conn = connect()
    try:
        # One call at a time per worker (the job runs alone in its process): a ride still
        # held under our name was left by an earlier call that lost its database
        # connection mid-ride. A reconnected worker takes it up again now, not in a lease.
        orphans = store.expire_claims(conn, [worker])
        if orphans:
            log.warning("taking up again ride(s) %s, left mid-way by this worker",
                        ", ".join(map(str, orphans)))
        while not should_stop() and (max_rides is None or done < max_rides):
            take_back_dead_claims(conn, worker, config)
            claim = store.claim_next_ride(conn, worker, config.lease_seconds)
            if claim is None:
                break
            with LeaseRenewal(connect, claim, worker, config.lease_seconds):
                try:
                    process_claimed(conn, claim, worker, config)
                finally:
                    _end_transaction(conn)
            done += 1
    finally:
        conn.close()
    return done


def _end_transaction(conn) -> None:
    """Whatever process_claimed left open (it commits or rolls back itself, unless it
    raised) ends here, so the lease renewal is never left waiting for our row lock."""
    try:
        conn.rollback()
    except Exception:  # broken: closing it is what ends its transaction on the server
        conn.close()
