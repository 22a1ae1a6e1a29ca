"""Export formats: CSV from query rows, GPX of one ride."""

from __future__ import annotations

from datetime import UTC, datetime

import gpxpy.gpx
import orjson

from app.downloads import csv_text
from app.models import Ride


def rows_to_csv(rows, with_geometry: str = "point") -> str:
    """One line per row; a point becomes lon/lat columns, a line its WKT-free GeoJSON."""
    return csv_text(_csv_record(r) for r in rows)


def _csv_record(r) -> dict:
    record = {k: (v.isoformat() if isinstance(v, datetime) else v)
              for k, v in r.items() if k != "geometry"}
    geometry = orjson.loads(r["geometry"])
    if geometry["type"] == "Point":
        record["lon"], record["lat"] = geometry["coordinates"]
    else:
        record["geometry"] = orjson.dumps(geometry).decode()
    return record


def snaps_to_csv(snaps: list[dict]) -> str:
    """One line per kept fix of a ride, with where it was snapped (queries.ride_snaps)."""
    return csv_text(snaps)


def snap_features(snaps: list[dict]) -> list[dict]:
    """The snaps as GeoJSON points at the snapped position (no geometry where unmatched)."""
    return [{"type": "Feature",
             "geometry": ({"type": "Point", "coordinates": [s["lon"], s["lat"]]}
                          if s["way_id"] is not None else None),
             "properties": {"kind": "fix", **{k: v for k, v in s.items()
                                              if k not in ("lon", "lat")}}}
            for s in snaps]


def ride_gpx(ride: Ride, geodata: dict) -> str:
    """The owner gets the kept points with their times; others the snapped line."""
    gpx = gpxpy.gpx.GPX()
    gpx.creator = "Mobility Data Portal"
    gpx_track = gpxpy.gpx.GPXTrack(name=ride.title)
    gpx.tracks.append(gpx_track)
    series = geodata.get("series")
    if series:
        segment, last_part = None, None
        for t, lon, lat, part in zip(series["t"], series["lon"], series["lat"],
                                     series["part"], strict=True):
            if part != last_part:
                segment = gpxpy.gpx.GPXTrackSegment()
                gpx_track.segments.append(segment)
                last_part = part
            segment.points.append(gpxpy.gpx.GPXTrackPoint(
                lat, lon, time=datetime.fromtimestamp(series["start"] + t, UTC)))
    elif geodata.get("snapped"):
        for line in geodata["snapped"]["coordinates"]:
            segment = gpxpy.gpx.GPXTrackSegment()
            segment.points.extend(gpxpy.gpx.GPXTrackPoint(lat, lon) for lon, lat in line)
            gpx_track.segments.append(segment)
    for feature in geodata["events"]["features"]:
        lon, lat = feature["geometry"]["coordinates"]
        props = feature["properties"]
        name = (f"overtaken at {props['distance_left']:.2f} m"
                if props.get("distance_left") is not None else "overtaking event")
        gpx.waypoints.append(gpxpy.gpx.GPXWaypoint(
            lat, lon, name=name, time=datetime.fromisoformat(props["time"])))
    return gpx.to_xml()
