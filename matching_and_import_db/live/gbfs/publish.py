"""The feed's features in the live contract (matching_and_import_db.live.events): layers
gbfs_stations, gbfs_vehicles and gbfs_zones, feature ids "{feed}:{id}". Only features whose
properties or geometry differ from the latest state in Redis are announced, so a poll that
changed three stations sends three events, and a Redis that lost its state is filled again
by the next poll."""

from __future__ import annotations

import orjson

from matching_and_import_db.live import events
from matching_and_import_db.live.gbfs.model import Station, Vehicle, Zone
from matching_and_import_db.live.gbfs.times import iso

STATIONS, VEHICLES, ZONES = "gbfs_stations", "gbfs_vehicles", "gbfs_zones"


def _point(lon, lat) -> dict | None:
    if lon is None or lat is None:
        return None
    return {"type": "Point", "coordinates": [lon, lat]}


def station_feature(feed: str, s: Station, stale: bool, reason: str | None):
    return (f"{feed}:{s.station_id}", {
        "feed": feed, "station_id": s.station_id, "name": s.name, "capacity": s.capacity,
        "num_bikes_available": s.num_bikes_available,
        "num_docks_available": s.num_docks_available, "is_renting": s.is_renting,
        "is_returning": s.is_returning, "last_reported": iso(s.last_reported),
        "stale": stale, "stale_reason": reason}, _point(s.lon, s.lat))


def vehicle_feature(feed: str, v: Vehicle):
    return (f"{feed}:{v.vehicle_id}", {
        "feed": feed, "vehicle_id": v.vehicle_id, "vehicle_type_id": v.vehicle_type_id,
        "form_factor": v.form_factor, "is_reserved": v.is_reserved,
        "is_disabled": v.is_disabled, "current_range_meters": v.current_range_meters},
        _point(v.lon, v.lat))


def zone_feature(feed: str, z: Zone):
    return (f"{feed}:{z.index}", {"feed": feed, "name": z.name, "rules": z.rules},
            z.geometry)


def publish_differences(redis, layer: str, features: list[tuple], removed: list[str]) -> int:
    """Announce the features that differ from Redis's latest state; returns how many."""
    changed = []
    if features:
        current = redis.hmget(events.state_key(layer), [f[0] for f in features])
        for (fid, props, geom), text in zip(features, current, strict=True):
            if text is None or orjson.loads(text) != events.feature(fid, props, geom):
                changed.append((fid, props, geom))
    # one round trip for all of them; a very large first publish in slices, so one
    # MULTI never holds Redis for long
    for start in range(0, max(len(changed), 1), 1000):
        events.publish_batch(redis, layer, changed[start:start + 1000],
                             removed if start == 0 else [])
    return len(changed) + len(removed)
