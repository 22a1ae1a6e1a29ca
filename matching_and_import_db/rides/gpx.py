"""Read a recorded ride from a GPX file (gpxpy does the XML)."""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime, timedelta

import gpxpy
import gpxpy.gpx

from matching_and_import_db.geodesy import great_circle_one_m
from matching_and_import_db.rides.model import (
    Measurement,
    ParsedRide,
    RideFormatError,
    RideLimits,
    gunzip_if_compressed,
)

# no GPS receiver of a rider logged before this; a later time than tomorrow is a wrong clock
EARLIEST_TIME = datetime(1990, 1, 1, tzinfo=UTC)
FUTURE_SLACK = timedelta(days=1)
# every element gpxpy makes an object of: track, route and waypoint points
_POINT_TAG = re.compile(r"<(?:[A-Za-z_][\w.-]*:)?(?:trkpt|rtept|wpt)[\s>/]")

# <?xml version="1.0" encoding="ISO-8859-1"?>: GPX files are not always UTF-8
_XML_ENCODING = re.compile(rb"""^\s*<\?xml[^>]*\bencoding\s*=\s*["']([A-Za-z0-9._-]+)["']""")


def read_gpx(data: bytes | str, limits: RideLimits = RideLimits()) -> ParsedRide:
    """Read every timed trackpoint of every track and segment, in file order.

    Trackpoints without a time are left out: GPS units often store an untimed copy of the
    ride next to the timed log, and a point without a time cannot be part of a ride. A file
    with no timed trackpoint at all is refused, and so is one past the limits: its points
    are counted before gpxpy builds its objects (about 2 kB each), so memory stays bounded.
    """
    text = data if isinstance(data, str) else _decode_xml(gunzip_if_compressed(data))
    points_in_file = sum(1 for _ in _POINT_TAG.finditer(text))
    if points_in_file > limits.max_points:
        raise RideFormatError(
            f"The GPX file has more than {limits.max_points} points; the portal takes at most "
            f"{limits.max_points} per ride. Split the recording into shorter rides.")
    try:
        gpx = gpxpy.parse(text)
    except (gpxpy.gpx.GPXXMLSyntaxException, ValueError) as e:  # lxml: NUL, control chars
        # gpxpy keeps the parser's own message (with line and column) as the cause
        raise RideFormatError(f"The GPX file is not valid XML ({e.__cause__ or e}).") from e
    except gpxpy.gpx.GPXException as e:
        raise RideFormatError(f"The GPX file is damaged: {e}.") from e

    segments = [segment.points for track in gpx.tracks for segment in track.segments]
    if not any(segments):
        if any(route.points for route in gpx.routes):
            raise RideFormatError(
                "The GPX file holds a planned route, not a recorded ride: it has no track "
                "points with timestamps."
            )
        raise RideFormatError("The GPX file has no track points.")

    points: list[Measurement] = []
    number = 0
    for segment_points in segments:
        for point in segment_points:
            number += 1
            _check_point(point, number)
        points.extend(_measurements(segment_points))
    if not points:
        raise RideFormatError("The GPX file has no timestamps; a ride needs them.")
    times = [p.time for p in points]
    if (max(times) - min(times)).total_seconds() > limits.max_hours * 3600:
        raise RideFormatError(
            f"The ride lasts longer than {limits.max_hours:g} hours; the portal takes rides of "
            f"at most {limits.max_hours:g} hours. Split the recording into shorter rides.")
    return ParsedRide(format="gpx", metadata={}, device_id=None, firmware=None,
                       points=points, events=[])


def _check_point(point: gpxpy.gpx.GPXTrackPoint, number: int) -> None:
    """A coordinate that is not a finite number, or a time no GPS gave, is a broken file:
    refused naming the point, rather than failing somewhere later."""
    if not (math.isfinite(point.latitude) and math.isfinite(point.longitude)):
        raise RideFormatError(
            f"Track point {number} of the GPX file has a latitude or longitude that is not "
            "a finite number (lat and lon must be degrees).")
    if point.time is not None:
        try:
            when = _utc(point.time)
        except (OverflowError, ValueError):
            when = None
        if when is None or not EARLIEST_TIME <= when <= datetime.now(UTC) + FUTURE_SLACK:
            raise RideFormatError(
                f"Track point {number} of the GPX file has a time outside "
                f"{EARLIEST_TIME.year} to today; the GPS clock was not set.")


def _decode_xml(data: bytes) -> str:
    match = _XML_ENCODING.match(data[:200])
    encoding = match.group(1).decode("ascii") if match else "utf-8"
    try:
        return data.decode("utf-8-sig" if encoding.lower() in ("utf-8", "utf8") else encoding)
    except LookupError as e:
        raise RideFormatError(
            f'The GPX file declares the text encoding "{encoding}", which is unknown.') from e
    except UnicodeDecodeError as e:
        raise RideFormatError(
            f"The GPX file is not valid {encoding} text (byte {e.start} cannot be decoded)."
        ) from e


def _measurements(trackpoints: list[gpxpy.gpx.GPXTrackPoint]) -> list[Measurement]:
    """One segment's timed points; speed and course come from the neighbours when not given.

    Not derived across segments: a new segment means the recording paused.
    """
    timed = [(p, _utc(p.time)) for p in trackpoints if p.time is not None]
    result = []
    for i, (point, time) in enumerate(timed):
        # the interval ending at this point; for the first point, the one starting at it
        j, k = (i - 1, i) if i > 0 else (0, 1)
        speed, course = _finite(point.speed), _finite(point.course)
        if (speed is None or course is None) and k < len(timed):
            derived_speed, derived_course = _motion(timed[j], timed[k])
            speed = derived_speed if speed is None else speed
            course = derived_course if course is None else course
        lat_ok = -90.0 <= point.latitude <= 90.0 and -180.0 <= point.longitude <= 180.0
        result.append(Measurement(
            time=time,
            lat=point.latitude if lat_ok else None,
            lon=point.longitude if lat_ok else None,
            speed=speed,
            course=course,
            hdop=_finite(point.horizontal_dilution),
            satellites=point.satellites,
            distance_left=None,
            distance_right=None,
            confirmed=False,
        ))
    return result


def _finite(value: float | None) -> float | None:
    return value if value is None or math.isfinite(value) else None


def _utc(time: datetime) -> datetime:
    # GPX times are UTC by definition; gpxpy leaves a time without a zone naive
    return time.replace(tzinfo=UTC) if time.tzinfo is None else time.astimezone(UTC)


def _motion(start: tuple[gpxpy.gpx.GPXTrackPoint, datetime],
            end: tuple[gpxpy.gpx.GPXTrackPoint, datetime]) -> tuple[float | None, float | None]:
    """Speed (m/s) and course (degrees from north) between two timed points."""
    (a, ta), (b, tb) = start, end
    seconds = (tb - ta).total_seconds()
    phi1, phi2 = math.radians(a.latitude), math.radians(b.latitude)
    d_lambda = math.radians(b.longitude - a.longitude)
    metres = great_circle_one_m(a.longitude, a.latitude, b.longitude, b.latitude)
    speed = metres / seconds if seconds > 0 else None
    if metres == 0.0:
        return speed, None  # standing still: no direction
    y = math.sin(d_lambda) * math.cos(phi2)
    x = math.cos(phi1) * math.sin(phi2) - math.sin(phi1) * math.cos(phi2) * math.cos(d_lambda)
    return speed, math.degrees(math.atan2(y, x)) % 360.0
