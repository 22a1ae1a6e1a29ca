"""Which recorded points a ride keeps: no fix, 0/0 and GPS jumps go; so does everything
inside the owner's privacy zones, which never leaves the server."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from matching_and_import_db.geodesy import great_circle_m, great_circle_one_m

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
            if great_circle_one_m(xs[last], ys[last], xs[i], ys[i]) > (
                    MAX_PLAUSIBLE_SPEED_MS * dt + JUMP_SLACK_M):
                keep[i] = False
                continue
        last = i
    return keep


def inside_zones(lon: np.ndarray, lat: np.ndarray, zones: Sequence[PrivacyZone]) -> np.ndarray:
    """True for every point within any of the zones (NaN positions are not inside)."""
    inside = np.zeros(len(lon), dtype=bool)
    for zone in zones:
        with np.errstate(invalid="ignore"):
            inside |= great_circle_m(zone.lon, zone.lat, lon, lat) <= zone.radius_m
    return inside
