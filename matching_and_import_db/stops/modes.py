"""Modes of transport, one vocabulary for both sides of stop matching.

Registries name modes in their own words (ATLAS `meansOfTransport`, NeTEx `TransportMode`
and `StopPlaceType`, HSL's network code); OSM in tags (`bus=yes`, `highway=bus_stop`,
`railway=tram_stop`, `train=yes`, ...). Readers translate theirs into MODES; the matcher
reads the OSM side with modes_of_osm_tags(). A stop whose mode is unknown is compatible
with every mode: only two known, disjoint mode sets rule a pair out.

Bus and tram count as compatible: street stops are shared (a tram stop served by buses is
mapped as railway=tram_stop alone more often than not; in Helsinki 45 of 2,200 true bus
pairs are such stops). A bus stop and a railway halt, or a bus stop and a metro platform,
never are.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np

MODES = ("bus", "tram", "rail", "metro", "ferry", "cableway", "funicular")

# OSM tags that say a stop serves a mode (the public_transport schema and the older tags)
_OSM_MODE_TAGS: tuple[tuple[str, str, str], ...] = (
    ("bus", "yes", "bus"), ("trolleybus", "yes", "bus"), ("share_taxi", "yes", "bus"),
    ("highway", "bus_stop", "bus"), ("amenity", "bus_station", "bus"),
    ("tram", "yes", "tram"), ("railway", "tram_stop", "tram"),
    ("train", "yes", "rail"), ("railway", "halt", "rail"), ("railway", "station", "rail"),
    ("railway", "stop", "rail"), ("light_rail", "yes", "rail"),
    # a railway platform or station says train or metro (metro stations are
    # railway=station + station=subway), unless a tag says which (see modes_of_osm_tags)
    ("railway", "platform", "rail"), ("railway", "platform", "metro"),
    ("railway", "station", "metro"), ("railway", "stop", "metro"),
    ("subway", "yes", "metro"), ("station", "subway", "metro"),
    ("ferry", "yes", "ferry"), ("amenity", "ferry_terminal", "ferry"),
    ("aerialway", "station", "cableway"), ("aerialway", "yes", "cableway"),
    ("funicular", "yes", "funicular"), ("station", "funicular", "funicular"),
    ("station", "light_rail", "rail"), ("station", "train", "rail"),
)
# the tags modes are read from: the OSM import keeps them with every stop
MODE_TAG_KEYS = tuple(sorted({key for key, _value, _mode in _OSM_MODE_TAGS}))
# modes that share stops with each other (see the module docstring)
_SHARED = {"bus": frozenset({"tram"}), "tram": frozenset({"bus"})}


_GENERIC = frozenset({("railway", "platform"), ("railway", "station"), ("railway", "stop")})


def modes_of_osm_tags(tags: Mapping[str, str]) -> frozenset[str]:
    """The modes an OSM stop object serves by its tags; empty when the tags do not say.
    A generic railway tag counts only when no tag names the mode (railway=platform with
    tram=yes is a tram platform, not a train's)."""
    specific = frozenset(mode for key, value, mode in _OSM_MODE_TAGS
                         if (key, value) not in _GENERIC and tags.get(key) == value)
    if specific:
        return specific
    return frozenset(mode for key, value, mode in _OSM_MODE_TAGS if tags.get(key) == value)


def modes_compatible(a: Iterable[str] | str | None, b: Iterable[str] | str | None) -> bool:
    """False only when both sides name modes and they share none."""
    set_a = _as_set(a)
    set_b = _as_set(b)
    if not set_a or not set_b or set_a & set_b:
        return True
    return any(_SHARED.get(mode, frozenset()) & set_b for mode in set_a)


def serves(modes: Iterable[str] | str | None, mode: str | None) -> bool:
    """Whether an object of these modes serves `mode`, strictly (bus does not serve
    tram): what a stop place of one mode takes of a group of several modes. Unknown on
    either side serves."""
    found = _as_set(modes)
    return mode is None or not found or mode in found


_BIT = {mode: 1 << n for n, mode in enumerate(MODES)}


def mode_mask(modes: Iterable[str] | str | None) -> int:
    """Modes as bits (MODES order), for comparing many pairs at once; 0 is unknown."""
    return sum(_BIT.get(mode, 0) for mode in _as_set(modes))


def masks_compatible(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """modes_compatible() for arrays of mode_mask() values, pair by pair."""
    shared = np.zeros_like(a)
    for mode, others in _SHARED.items():
        shared |= np.where(a & _BIT[mode], mode_mask(others), 0)
    return (a == 0) | (b == 0) | ((a | shared) & b != 0)


def masks_serve(modes: np.ndarray, mode: np.ndarray) -> np.ndarray:
    """serves() for arrays of mode_mask() values: an object's modes and a row's mode."""
    return (modes == 0) | (mode == 0) | (modes & mode != 0)


def _as_set(modes: Iterable[str] | str | None) -> frozenset[str]:
    if modes is None:
        return frozenset()
    if isinstance(modes, str):
        return frozenset((modes,))
    return frozenset(modes)
