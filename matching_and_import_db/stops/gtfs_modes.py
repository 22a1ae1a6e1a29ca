"""The modes a GTFS feed's stops are served by: route_type of the routes whose trips call
there (routes.txt → trips.txt → stop_times.txt). stops.txt does not say, and the matcher
compares modes.

stop_times.txt is the biggest file of a feed (tens of millions of rows nationally): it is
streamed once, reading two columns and keeping one set of route types per stop.
"""

from __future__ import annotations

import csv
import io
import zipfile

# GTFS basic route types and the extended (HVT) ranges, → stops.modes.MODES
_BASIC = {0: "tram", 1: "metro", 2: "rail", 3: "bus", 4: "ferry", 5: "tram", 6: "cableway",
          7: "funicular", 11: "bus", 12: "rail"}
_EXTENDED = ((100, 200, "rail"), (200, 300, "bus"), (400, 405, "metro"), (405, 500, "rail"),
             (700, 900, "bus"), (900, 1000, "tram"), (1000, 1100, "ferry"),
             (1200, 1201, "ferry"), (1300, 1400, "cableway"), (1400, 1401, "funicular"))


def mode_of_route_type(value: str | None) -> str | None:
    try:
        number = int((value or "").strip())
    except ValueError:
        return None
    if number in _BASIC:
        return _BASIC[number]
    return next((mode for low, high, mode in _EXTENDED if low <= number < high), None)


def stop_modes(archive: zipfile.ZipFile, members: dict[str, str]) -> dict[str, set[str]]:
    """stop_id → the modes of the routes calling there; empty when the feed lacks a file."""
    if not {"routes.txt", "trips.txt", "stop_times.txt"} <= set(members):
        return {}
    route_mode = {row.get("route_id", ""): mode_of_route_type(row.get("route_type"))
                  for row in _dicts(archive, members["routes.txt"])}
    trip_mode = {}
    for row in _dicts(archive, members["trips.txt"]):
        mode = route_mode.get(row.get("route_id", ""))
        if mode:
            trip_mode[row.get("trip_id", "")] = mode
    modes: dict[str, set[str]] = {}
    with archive.open(members["stop_times.txt"]) as raw:
        reader = csv.reader(io.TextIOWrapper(raw, encoding="utf-8-sig", newline=""))
        header = [c.strip() for c in next(reader, [])]
        if "trip_id" not in header or "stop_id" not in header:
            return {}
        trip_at, stop_at = header.index("trip_id"), header.index("stop_id")
        width = max(trip_at, stop_at)
        for values in reader:
            if len(values) > width:
                mode = trip_mode.get(values[trip_at])
                if mode:
                    modes.setdefault(values[stop_at], set()).add(mode)
    return modes


def _dicts(archive: zipfile.ZipFile, member: str):
    with archive.open(member) as raw:
        yield from csv.DictReader(io.TextIOWrapper(raw, encoding="utf-8-sig", newline=""))
