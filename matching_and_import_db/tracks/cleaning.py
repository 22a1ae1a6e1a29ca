"""Which recorded points a ride keeps: no fix, 0/0 and GPS jumps go; so does everything
inside the owner's privacy zones, which never leaves the server."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

EARTH_RADIUS_M = 6_371_008.8
# Faster than this between two fixes is a GPS glitch, not a bicycle (a fast descent is
# about 20 m/s; 30 m/s leaves room for an e-bike downhill without keeping real jumps).
MAX_PLAUSIBLE_SPEED_MS = 30.0
# A position error allowance added to the distance a rider could have covered, so two
# fixes a second apart that jitter by a few metres are not taken for a jump.
JUMP_SLACK_M = 25.0
MAX_HDOP = 20.0  # beyond this the receiver itself says the position is worthless


@dataclass(frozen=True, slots=True)
class PrivacyZone:
    lon: float
    lat: float
    radius_m: float


def metres_between(lon1, lat1, lon2, lat2):
    """Haversine distance in metres; works on numpy arrays."""
    lon1, lat1, lon2, lat2 = map(np.radians, (lon1, lat1, lon2, lat2))
    a = (np.sin((lat2 - lat1) / 2) ** 2
         + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2)
    return 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(a))


def valid_fix_mask(lon: np.ndarray, lat: np.ndarray, hdop: np.ndarray) -> np.ndarray:
    """Points with a usable position: present, in range, not the 0/0 of a cold receiver,
    and not flagged worthless by their HDOP (NaN HDOP means not reported: kept)."""
    with np.errstate(invalid="ignore"):
        return (np.isfinite(lon) & np.isfinite(lat)
                & (np.abs(lat) <= 90) & (np.abs(lon) <= 180)
                & ~((np.abs(lat) < 1e-6) & (np.abs(lon) < 1e-6))
                & ~(hdop > MAX_HDOP))


def drop_jumps(lon: np.ndarray, lat: np.ndarray, t: np.ndarray, keep: np.ndarray) -> np.ndarray:
    """Remove fixes that could only be reached faster than a bicycle goes from the last
    kept fix. Sequential on purpose: after a glitch, the next fix is compared with the
    last good one, not with the glitch. Plain floats: numpy per scalar would be slower."""
    keep = keep.copy()
    xs, ys, ts = lon.tolist(), lat.tolist(), t.tolist()
    last = -1
    for i in np.flatnonzero(keep).tolist():
        if last >= 0:
            dt = max(ts[i] - ts[last], 0.0)
            if _haversine(xs[last], ys[last], xs[i], ys[i]) > (
                    MAX_PLAUSIBLE_SPEED_MS * dt + JUMP_SLACK_M):
                keep[i] = False
                continue
        last = i
    return keep


def _haversine(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = (math.sin((p2 - p1) / 2) ** 2
         + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2)
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(a))


def inside_zones(lon: np.ndarray, lat: np.ndarray, zones: Sequence[PrivacyZone]) -> np.ndarray:
    """True for every point within any of the zones (NaN positions are not inside)."""
    inside = np.zeros(len(lon), dtype=bool)
    for zone in zones:
        with np.errstate(invalid="ignore"):
            inside |= metres_between(zone.lon, zone.lat, lon, lat) <= zone.radius_m
    return inside
