"""From a parsed ride to what the database keeps of it: pure functions over numpy arrays.

prepare_ride() keeps the valid points outside the owner's privacy zones; ride_outputs()
turns those points and the map-matching result into event rows, road passes, the two
geometries and the chart series.
"""

from __future__ import annotations

import gzip
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import NamedTuple

import numpy as np
import orjson
import shapely

from matching_and_import_db.errors import InputError
from matching_and_import_db.geodesy import great_circle_m
from matching_and_import_db.rides.cleaning import (
    PrivacyZone,
    drop_jumps,
    inside_zones,
    valid_fix_mask,
)
from matching_and_import_db.rides.legal import legal_minimum
from matching_and_import_db.rides.store import EventRow, PassRow

# An event is placed at the kept point recorded at its time; a point further away in
# time than this is not the event's point (the event's own row was dropped).
EVENT_POINT_MAX_SECONDS = 1.5
# The roads query follows the ride's line simplified to about this many degrees (~10 m):
# the query stays small, and the matching radius covers the difference.
SEARCH_LINE_TOLERANCE_DEG = 0.0001
SEARCH_PIECE_VERTICES = 8


def _floats(values) -> np.ndarray:
    return np.array([np.nan if v is None else v for v in values], dtype=float)


@dataclass
class Ride:
    """The kept points of a ride, as arrays in recording order."""

    t: np.ndarray  # seconds since the epoch, UTC
    lon: np.ndarray
    lat: np.ndarray
    speed: np.ndarray  # m/s, NaN unknown
    course: np.ndarray  # degrees, NaN unknown
    left: np.ndarray  # overtaking distance measured on the left, metres, NaN none
    right: np.ndarray
    raw_parts: list[np.ndarray]  # index runs of kept points not separated by a privacy zone
    points_total: int
    points_valid: int
    points_private: int

    @property
    def started(self) -> datetime:
        return datetime.fromtimestamp(float(self.t[0]), UTC)

    @property
    def ended(self) -> datetime:
        return datetime.fromtimestamp(float(self.t[-1]), UTC)

    def search_pieces_wkb(self) -> list[bytes]:
        """The ride's line, simplified, in short overlapping pieces for the roads query."""
        line = shapely.LineString(np.column_stack([self.lon, self.lat]))
        coords = shapely.get_coordinates(line.simplify(SEARCH_LINE_TOLERANCE_DEG))
        step = SEARCH_PIECE_VERTICES - 1
        pieces = [coords[i:i + SEARCH_PIECE_VERTICES]
                  for i in range(0, max(len(coords) - 1, 1), step)]
        return [shapely.to_wkb(shapely.LineString(p) if len(p) > 1 else shapely.Point(p[0]))
                for p in pieces]

    def length_m(self, match) -> float:
        """Along the streets where the ride was matched, straight between fixes elsewhere:
        1 Hz GPS noise zigzags, and summing it would add a third to a city ride."""
        n = len(self.t)
        if n < 2:
            return 0.0
        matched = match.way_id >= 0
        linked = np.zeros(n, dtype=bool)
        linked[1:] = matched[1:] & matched[:-1]
        linked[match.chain_starts] = False
        straight = great_circle_m(self.lon[:-1], self.lat[:-1], self.lon[1:], self.lat[1:])
        return float(match.route_length_m + straight[~linked[1:]].sum())


def prepare_ride(points: Sequence, zones: Sequence[PrivacyZone]) -> Ride:
    """Keep valid fixes outside the privacy zones. Raises InputError when nothing of the
    ride is left to process."""
    if not points:
        raise InputError("the file holds no measurements")
    t = np.array([p.time.timestamp() for p in points], dtype=float)
    lon = _floats(p.lon for p in points)
    lat = _floats(p.lat for p in points)
    hdop = _floats(p.hdop for p in points)
    valid = drop_jumps(lon, lat, t, valid_fix_mask(lon, lat, hdop))
    if valid.sum() < 2:
        raise InputError("the ride has no valid GPS fix (fewer than two positions): "
                         "was the sensor outside, with a GPS signal?")
    private = valid & inside_zones(lon, lat, zones)
    keep = valid & ~private
    kept = np.flatnonzero(keep)
    if len(kept) < 2:
        raise InputError("the ride lies inside your privacy zones (fewer than two positions "
                         "outside them), so nothing of it is shown")
    # runs of kept points with no private point between them: the line never crosses a zone
    private_before = np.cumsum(private)[kept]
    breaks = np.flatnonzero(np.diff(private_before) > 0) + 1
    raw_parts = [part for part in np.split(np.arange(len(kept)), breaks) if len(part) >= 1]
    return Ride(
        t=t[kept], lon=lon[kept], lat=lat[kept],
        speed=_floats(p.speed for p in points)[kept],
        course=_floats(p.course for p in points)[kept],
        left=_floats(p.distance_left for p in points)[kept],
        right=_floats(p.distance_right for p in points)[kept],
        raw_parts=raw_parts, points_total=len(points), points_valid=int(valid.sum()),
        points_private=int(private.sum()),
    )


# A "pass" this short, touched by at most this many fixes, is a fix snapped onto a crossing
# street at a junction node (0 m ridden on it), not a ride along that street.
BLIP_MAX_M = 2.0
BLIP_MAX_POINTS = 2


def ridden_passes(passes: Sequence) -> list:
    """The passes that count for road usage: junction blips dropped, and the runs of one
    way in one direction that a blip had split joined again."""
    kept = [p for p in passes
            if p.length_m > BLIP_MAX_M or p.last_index - p.first_index + 1 > BLIP_MAX_POINTS]
    merged: list = []
    for p in kept:
        last = merged[-1] if merged else None
        if last is not None and last.way_id == p.way_id and last.direction == p.direction:
            merged[-1] = replace(last, last_index=p.last_index,
                                 length_m=last.length_m + p.length_m)
        else:
            merged.append(p)
    return merged


class RoadFacts(NamedTuple):
    """What the outputs need of a way the matcher knew."""

    zone_traffic: str | None
    maxspeed: str | None
    # motor vehicles pass riders there (roadclass.carries_motor_traffic): only there do
    # overtaking events and road statistics count
    motor_traffic: bool


UNKNOWN_ROAD = RoadFacts(None, None, False)


@dataclass
class RideOutputs:
    events: list[EventRow]  # rows for store.replace_ride_outputs
    passes: list[PassRow]
    summary: dict  # columns for store.complete_ride
    keys: set[tuple[int, int]]  # (way, direction) pairs touched
    snaps: dict  # per kept fix, for store.replace_ride_snaps


def _multiline_wkb(lon: np.ndarray, lat: np.ndarray, parts: list[np.ndarray]) -> bytes | None:
    lines = [shapely.LineString(np.column_stack([lon[p], lat[p]])) for p in parts if len(p) >= 2]
    return shapely.to_wkb(shapely.MultiLineString(lines)) if lines else None


def _matched_runs(way_id: np.ndarray) -> list[np.ndarray]:
    """Index runs of consecutive matched points (a break wherever matching failed)."""
    matched = way_id >= 0
    idx = np.flatnonzero(matched)
    if len(idx) == 0:
        return []
    return np.split(idx, np.flatnonzero(np.diff(idx) > 1) + 1)


def _series_blob(ride: Ride) -> bytes:
    """Per kept point, for the owner's chart and GPX export (never shown to others)."""
    part = np.zeros(len(ride.t), dtype=int)
    for n, idx in enumerate(ride.raw_parts):
        part[idx] = n
    series = {
        "start": float(ride.t[0]),
        "t": np.round(ride.t - ride.t[0], 1).tolist(),
        "lon": np.round(ride.lon, 6).tolist(),
        "lat": np.round(ride.lat, 6).tolist(),
        "part": part.tolist(),
        "speed": np.round(ride.speed, 2).tolist(),
        "left": np.round(ride.left, 3).tolist(),
        "right": np.round(ride.right, 3).tolist(),
    }
    return gzip.compress(orjson.dumps(series), compresslevel=5, mtime=0)


def _snaps(match) -> dict:
    """The snap of every kept fix as arrays (NaN where unmatched), rounded to what a
    check needs (centimetres, 1e-7 degrees)."""
    return {"way_id": match.way_id, "direction": match.direction,
            "offset_m": np.round(match.along, 2), "distance_m": np.round(match.distance, 2),
            "lon": np.round(match.lon, 7), "lat": np.round(match.lat, 7)}


def ride_outputs(parsed, ride: Ride, match, roads: dict[int, RoadFacts],
                 zones: Sequence[PrivacyZone], minimum_urban: float, minimum_rural: float,
                 processing_seconds: float = 0.0) -> RideOutputs:
    """roads: way id → RoadFacts of every way the matcher knew.

    Overtaking events and passes count only on ways with motor traffic: an event measured
    while the rider was on a sidewalk, footway or cycle track of its own is no car passing
    (it is a wall, a pedestrian, a parked bike), so it is left out, and the ride's message
    says how many were."""
    events = []
    off_road_events = 0
    keys: set[tuple[int, int]] = set()
    ev_lon = _floats(e.lon for e in parsed.events)
    ev_lat = _floats(e.lat for e in parsed.events)
    ev_private = inside_zones(ev_lon, ev_lat, zones)
    for e, elon, elat, private in zip(parsed.events, ev_lon, ev_lat, ev_private, strict=True):
        et = e.time.timestamp()
        i = int(np.clip(np.searchsorted(ride.t, et), 1, len(ride.t) - 1))
        i = i if abs(ride.t[i] - et) < abs(ride.t[i - 1] - et) else i - 1
        near = abs(ride.t[i] - et) <= EVENT_POINT_MAX_SECONDS
        if private or (not near and not np.isfinite(elon)):
            continue  # inside a privacy zone, or nowhere to put it
        way = int(match.way_id[i]) if near else -1
        if way >= 0:
            road = roads.get(way, UNKNOWN_ROAD)
            if not road.motor_traffic:
                off_road_events += 1
                continue
            lon, lat, direction = float(match.lon[i]), float(match.lat[i]), int(match.direction[i])
            zone_traffic, maxspeed = road.zone_traffic, road.maxspeed
            keys.add((way, direction))
        else:
            lon, lat = (float(elon), float(elat)) if np.isfinite(elon) else (
                float(ride.lon[i]), float(ride.lat[i]))
            direction, zone_traffic, maxspeed = 0, None, None
        if inside_zones(np.array([lon]), np.array([lat]), zones)[0]:
            continue  # snapped into a zone: it stays on the server
        minimum = legal_minimum(zone_traffic, maxspeed, minimum_urban, minimum_rural)
        events.append(EventRow(e.time, e.distance_left, e.distance_right, e.speed,
                               way if way >= 0 else None, direction, minimum, lon, lat))

    passes = []
    counted = [p for p in ridden_passes(match.passes)
               if roads.get(int(p.way_id), UNKNOWN_ROAD).motor_traffic]
    for seq, p in enumerate(counted):
        passes.append(PassRow(seq, int(p.way_id), int(p.direction),
                              datetime.fromtimestamp(float(ride.t[p.first_index]), UTC),
                              float(p.length_m)))
        keys.add((int(p.way_id), int(p.direction)))

    summary = {
        "message": (f"{off_road_events} overtaking event{'s' if off_road_events != 1 else ''} "
                    "measured off the roads (on a footway, sidewalk or cycle track: no car "
                    "passes there) not counted" if off_road_events else None),
        "processing_seconds": processing_seconds,
        "file_format": parsed.format,
        "device_id": parsed.device_id,
        "firmware": parsed.firmware,
        "recorded_at": ride.started,
        "recorded_until": ride.ended,
        "duration_s": float(ride.t[-1] - ride.t[0]),
        "length_m": ride.length_m(match),
        "points_total": ride.points_total,
        "points_valid": ride.points_valid,
        "points_private": ride.points_private,
        "points_matched": int((match.way_id >= 0).sum()),
        "events_count": len(events),
        "geom_raw": _multiline_wkb(ride.lon, ride.lat, ride.raw_parts),
        "geom": _multiline_wkb(match.lon, match.lat, _matched_runs(match.way_id)),
        "series": _series_blob(ride),
        "default_title": f"Ride on {ride.started:%Y-%m-%d %H:%M} UTC",
    }
    return RideOutputs(events=events, passes=passes, summary=summary, keys=keys,
                       snaps=_snaps(match))
