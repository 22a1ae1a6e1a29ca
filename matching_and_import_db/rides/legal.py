"""The legal minimum overtaking distance on a road: in town or outside, told by the way's
zone:traffic tag (DE:urban, AT:rural, ...) or else by its maxspeed; in town when neither
says (most rides are urban, and the stricter outside value would overcount)."""

from __future__ import annotations

import re

URBAN_SPEED_LIMIT_KMH = 50.0
_NUMBER = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(mph|km/h|kmh)?\s*$")


def is_urban(zone_traffic: str | None, maxspeed: str | None) -> bool:
    for tag in (zone_traffic, maxspeed):
        if tag:
            low = tag.lower()
            if low.endswith(":urban") or low == "urban":
                return True
            if low.endswith((":rural", ":motorway", ":trunk")) or low == "rural":
                return False
    if maxspeed:
        m = _NUMBER.match(maxspeed)
        if m:
            kmh = float(m.group(1)) * (1.609344 if m.group(2) == "mph" else 1.0)
            return kmh <= URBAN_SPEED_LIMIT_KMH
    return True


def legal_minimum(zone_traffic: str | None, maxspeed: str | None,
                  urban_m: float, rural_m: float) -> float:
    return urban_m if is_urban(zone_traffic, maxspeed) else rural_m
