"""Read the CSV file an OpenBikeSensor writes to its SD card.

Behaves like the OpenBikeSensor portal (openbikesensor/portal, api/obs/api/process/obs_csv.py)
and its processing library obs-face (api/obs/face/importer/obscsv.py), checked against the
firmware that writes the file (OpenBikeSensorFirmware, src/writer.cpp, src/sensor.cpp) and its
format description (docs/software/firmware/csv_format.md):

* Format 2 starts with a metadata line of URL-encoded key=value pairs (OBSDataFormat=2,
  OBSFirmwareVersion, DeviceId, OffsetLeft/OffsetRight in cm, TimeZone=GPS, ...), then the
  ';'-separated header. Format 1 files (1.0-1.3) have no metadata line: the header comes first
  and its columns tell the variant (Case/Lid or Left/Right for the distances).
* Columns are looked up by header name, so their order and the number of Tms/Lus/Rus triplets
  (MaximumMeasurementsPerLine 30, 35, 60, ...) do not matter.
* Date (dd.mm.yyyy) and Time are UTC, except with TimeZone=GPS where they are GPS time, ahead
  of UTC by the leap seconds counted since 1980 (18 s since 2017).
* Left/Right are the minimum distances of the row in cm, already corrected by the firmware for
  the handlebar offset (sensor.cpp, correctSensorOffset); like the portal we only convert them
  to metres. Empty, 999 or 255 (the first firmware's byte) mean no reading.
* Speed is in km/h (the firmware writes TinyGPS speed.kmph()).
* Confirmed is 0, or 1 + the index of the confirmed measurement; a second confirmation in the
  same second repeats the row with the other distance. The portal keeps one event per second.
* Rows flagged InsidePrivacyArea are dropped, as the portal does.
"""

from __future__ import annotations

import csv
import io
import math
import urllib.parse
from bisect import bisect_right
from datetime import UTC, datetime

from matching_and_import_db.rides.model import (
    Measurement,
    Overtake,
    ParsedRide,
    RideFormatError,
    RideLimits,
    decode_utf8,
    gunzip_if_compressed,
)

SUPPORTED_METADATA_VERSIONS = ("2",)

# GPS time runs ahead of UTC by the leap seconds inserted since 1980-01-06. Each entry is the
# UTC day from which the offset holds (IERS Bulletin C). None has been added since 2017; add a
# line here if the IERS announces one.
GPS_MINUS_UTC_SECONDS = (
    (datetime(2006, 1, 1, tzinfo=UTC), 14),
    (datetime(2009, 1, 1, tzinfo=UTC), 15),
    (datetime(2012, 7, 1, tzinfo=UTC), 16),
    (datetime(2015, 7, 1, tzinfo=UTC), 17),
    (datetime(2017, 1, 1, tzinfo=UTC), 18),
)
# the same instants written in GPS time, to look up an offset from a GPS timestamp
_LEAP_STARTS_IN_GPS_TIME = [
    start.timestamp() + offset for start, offset in GPS_MINUS_UTC_SECONDS
]
_LEAP_OFFSETS = [offset for _, offset in GPS_MINUS_UTC_SECONDS]

# No OpenBikeSensor existed before 2018: an earlier date means the clock was not set yet (the
# firmware then counts from 1970). The portal drops such rows; so do we.
EARLIEST_PLAUSIBLE = datetime(2018, 1, 1, tzinfo=UTC).timestamp()

# the distance values that mean "no reading". 999 is the firmware's MAX_SENSOR_VALUE; 255
# comes from the first firmware, which stored a byte. Like the portal we treat 255 as "no
# reading" in every format: a real 2.55 m pass is rare, a stray 255 sentinel is not.
NO_READING_CM = frozenset({255.0, 999.0})

# the metadata line is a few hundred characters; its device texts fit the ride's columns
MAX_METADATA_CHARS = 16 * 1024
MAX_DEVICE_TEXT = 100

ALWAYS_REQUIRED = ("Date", "Time", "Latitude", "Longitude", "Confirmed")


def read_obs_csv(data: bytes | str, limits: RideLimits = RideLimits()) -> ParsedRide:
    """Read an OpenBikeSensor CSV file (plain or gzip-compressed) into points and overtakes.

    Raises RideFormatError, with a message for the rider, when the file cannot be used or
    goes past the limits (checked while reading: a huge file is not read to its end).
    """
    text = data if isinstance(data, str) else decode_utf8(gunzip_if_compressed(data))
    if not text.strip():
        raise RideFormatError("The file is empty.")
    nul = text.find("\x00")
    if nul >= 0:
        raise RideFormatError(
            f"The file holds a NUL byte on line {text.count(chr(10), 0, nul) + 1}: it is "
            "binary or damaged, not the CSV text the OpenBikeSensor writes.")

    lines = io.StringIO(text, newline="")
    first_line = lines.readline(MAX_METADATA_CHARS + 1).rstrip("\r\n")
    if len(first_line) > MAX_METADATA_CHARS:
        raise RideFormatError(
            f"The first line of the file is longer than {MAX_METADATA_CHARS} characters; an "
            "OpenBikeSensor header or metadata line is far shorter.")
    metadata = _metadata_from_first_line(first_line)
    if metadata:
        version = metadata.get("OBSDataFormat") or metadata.get("OBSDataFormatVersion")
        if not version:
            raise RideFormatError(
                "The first line of the file looks like OpenBikeSensor metadata but does not "
                "say which data format the file uses (OBSDataFormat is missing)."
            )
        if version not in SUPPORTED_METADATA_VERSIONS:
            raise RideFormatError(
                f'The file uses OpenBikeSensor data format version "{version}", which this '
                "portal cannot read yet (it reads version 2 and the older files without a "
                "metadata line)."
            )
        ride_format = "obs-2"
        header_line = lines.readline().rstrip("\r\n")
        if not header_line.strip():
            raise RideFormatError(
                "The file has the OpenBikeSensor metadata line but no column header after it."
            )
    else:
        ride_format = "obs-1"
        header_line = first_line

    points, events = _read_rows(
        lines,
        _columns(header_line, ride_format),
        gps_time=metadata.get("TimeZone") == "GPS",
        no_reading=NO_READING_CM,
        lines_before=2 if ride_format == "obs-2" else 1,
        limits=limits,
    )
    return ParsedRide(
        format=ride_format,
        metadata=metadata,
        device_id=metadata.get("DeviceId") or None,
        firmware=metadata.get("OBSFirmwareVersion") or None,
        points=points,
        events=events,
    )


def gps_to_utc(gps_timestamp: float) -> float:
    """Convert seconds since 1970 read from a GPS clock to UTC seconds since 1970."""
    i = bisect_right(_LEAP_STARTS_IN_GPS_TIME, gps_timestamp) - 1
    # before 2006 the table does not reach; such dates are dropped as implausible anyway
    return gps_timestamp - _LEAP_OFFSETS[max(i, 0)]


def _metadata_from_first_line(line: str) -> dict[str, str]:
    if "OBSDataFormat" not in line:
        return {}
    try:
        pairs = urllib.parse.parse_qsl(line.strip(), keep_blank_values=True, strict_parsing=True)
    except ValueError:
        raise RideFormatError(
            "The first line of the file looks like OpenBikeSensor metadata but cannot be "
            "decoded (it must be URL-encoded key=value pairs joined by &)."
        ) from None  # the parser's message quotes the line: it would reach the logs
    metadata = dict(pairs)
    for key in ("DeviceId", "OBSFirmwareVersion"):
        if len(metadata.get(key, "")) > MAX_DEVICE_TEXT:
            raise RideFormatError(
                f"The metadata line's {key} is longer than {MAX_DEVICE_TEXT} characters; "
                "a real OpenBikeSensor writes a short one.")
    return metadata


class _Columns:
    """Where each value sits in a row, found by header name; None when the file lacks it."""

    __slots__ = ("date", "time", "lat", "lon", "confirmed", "left", "right", "speed", "course",
                 "hdop", "satellites", "privacy", "width")

    def __init__(self, index: dict[str, int], left: str, right: str) -> None:
        self.date = index["Date"]
        self.time = index["Time"]
        self.lat = index["Latitude"]
        self.lon = index["Longitude"]
        self.confirmed = index["Confirmed"]
        self.left = index[left]
        self.right = index[right]
        self.speed = index.get("Speed")
        self.course = index.get("Course")
        self.hdop = index.get("HDOP")
        self.satellites = index.get("Satellites")
        # format 1.3 spelled it with a small i
        self.privacy = index.get("InsidePrivacyArea", index.get("insidePrivacyArea"))
        used = [i for i in (self.date, self.time, self.lat, self.lon, self.confirmed, self.left,
                            self.right, self.speed, self.course, self.hdop, self.satellites,
                            self.privacy) if i is not None]
        self.width = max(used) + 1


def _columns(header_line: str, ride_format: str) -> _Columns:
    if ";" not in header_line:
        raise RideFormatError(
            "This is not an OpenBikeSensor CSV file: its column header should be "
            "semicolon-separated and start with Date;Time;..., but the "
            + ("second" if ride_format == "obs-2" else "first")
            + " line has no ';'."
        )
    index: dict[str, int] = {}
    for i, name in enumerate(header_line.split(";")):
        index.setdefault(name.strip(), i)  # the first column of a name wins, as in obs-face

    # format 2 and 1.2/1.3 name the distances Left/Right; 1.0/1.1 named them by the case side
    # (Case, the overtaker side in right-hand traffic) and the lid side (Lid)
    if "Left" not in index and "Right" not in index and ("Case" in index or "Lid" in index):
        left, right = "Case", "Lid"
    else:
        left, right = "Left", "Right"
    missing = [name for name in (*ALWAYS_REQUIRED, left, right) if name not in index]
    if missing:
        raise RideFormatError(
            "This is not an OpenBikeSensor CSV file, or it is damaged: the column header lacks "
            + ", ".join(missing)
            + "."
        )
    return _Columns(index, left, right)


def _read_rows(
    lines: io.StringIO,
    col: _Columns,
    *,
    gps_time: bool,
    no_reading: frozenset[float],
    lines_before: int,
    limits: RideLimits,
) -> tuple[list[Measurement], list[Overtake]]:
    reader = csv.reader(lines, delimiter=";", skipinitialspace=True)
    points: list[Measurement] = []
    events_by_second: dict[datetime, Overtake] = {}
    midnight_by_date: dict[str, float | None] = {}  # "19.02.2022" -> seconds since 1970
    rows = rows_without_time = rows_private = 0
    width = col.width
    padding = [""] * width
    earliest = latest = None
    max_seconds = limits.max_hours * 3600

    try:
        for row in reader:
            if not row or (len(row) == 1 and not row[0].strip()):
                continue  # blank line, e.g. at the end of the file
            rows += 1
            if rows > limits.max_points:
                raise RideFormatError(
                    f"The ride has more than {limits.max_points} measurements; the portal takes "
                    f"at most {limits.max_points} per ride. Split the recording into shorter "
                    "rides.")
            if len(row) < width:  # a short last row, written when the battery died
                row = row + padding[len(row):]

            timestamp = _timestamp(row[col.date], row[col.time], midnight_by_date)
            if timestamp is not None and gps_time:
                timestamp = gps_to_utc(timestamp)
            if timestamp is None or timestamp < EARLIEST_PLAUSIBLE:
                rows_without_time += 1
                continue
            earliest = timestamp if earliest is None else min(earliest, timestamp)
            latest = timestamp if latest is None else max(latest, timestamp)
            if latest - earliest > max_seconds:
                raise RideFormatError(
                    f"The ride lasts longer than {limits.max_hours:g} hours (line "
                    f"{lines_before + reader.line_num}); the portal takes rides of at most "
                    f"{limits.max_hours:g} hours. Split the recording into shorter rides.")
            if col.privacy is not None and row[col.privacy].strip() == "1":
                rows_private += 1
                continue

            lat = _number(row[col.lat])
            lon = _number(row[col.lon])
            if (lat is None or lon is None or abs(lat) > 90.0 or abs(lon) > 180.0
                    or (lat == 0.0 and lon == 0.0)):  # some firmware wrote 0/0 for "no fix"
                lat = lon = None
            speed = _number(row[col.speed]) if col.speed is not None else None
            if speed is not None:
                speed = speed / 3.6 if speed >= 0.0 else None
            course = _number(row[col.course]) if col.course is not None else None
            satellites = _number(row[col.satellites]) if col.satellites is not None else None
            point = Measurement(
                time=datetime.fromtimestamp(timestamp, UTC),
                lat=lat,
                lon=lon,
                speed=speed,
                course=course % 360.0 if course is not None else None,
                hdop=_number(row[col.hdop]) if col.hdop is not None else None,
                satellites=int(satellites) if satellites is not None else None,
                distance_left=_distance(row[col.left], no_reading),
                distance_right=_distance(row[col.right], no_reading),
                confirmed=_is_confirmed(row[col.confirmed]),
            )
            points.append(point)
            # like the portal: an overtake needs the distance the rider confirmed, and a second
            # confirmation row in the same second replaces the first (one event per second)
            if point.confirmed and point.distance_left is not None:
                events_by_second[point.time] = Overtake(
                    time=point.time,
                    lat=point.lat,
                    lon=point.lon,
                    distance_left=point.distance_left,
                    distance_right=point.distance_right,
                    speed=point.speed,
                )
    except csv.Error as e:
        line = lines_before + reader.line_num
        raise RideFormatError(f"Line {line} of the file is damaged and cannot be read ({e}).") \
            from e

    if rows == 0:
        raise RideFormatError("The file has the OpenBikeSensor header but no measurements.")
    if not points:
        if rows_private and rows_private + rows_without_time == rows:
            raise RideFormatError(
                "Every measurement in the file lies inside one of your privacy zones, so there "
                "is nothing to import."
            )
        raise RideFormatError(
            f"None of the {rows} rows has a valid date and time (the sensor's clock was not "
            "set, which happens when it never had GPS reception)."
        )
    if all(p.lat is None for p in points):
        raise RideFormatError(
            f"None of the {len(points)} rows has a GPS position: the sensor had no GPS "
            "reception during this recording, so it cannot be placed on the map."
        )
    return points, list(events_by_second.values())


def _timestamp(date_text: str, time_text: str, midnight_by_date: dict[str, float | None]
               ) -> float | None:
    """Seconds since 1970 for 'dd.mm.yyyy' and 'HH:MM:SS', or None when either is invalid."""
    if date_text in midnight_by_date:
        midnight = midnight_by_date[date_text]
    else:  # parsed once per day of the ride, not once per row
        try:
            day, month, year = (int(part) for part in date_text.split("."))
            midnight = datetime(year, month, day, tzinfo=UTC).timestamp()
        except ValueError:
            midnight = None
        midnight_by_date[date_text] = midnight
    if midnight is None:
        return None
    try:
        hours, minutes, seconds = (int(part) for part in time_text.split(":"))
    except ValueError:
        return None
    if not (0 <= hours < 24 and 0 <= minutes < 60 and 0 <= seconds <= 60):
        return None
    return midnight + hours * 3600 + minutes * 60 + seconds


def _number(text: str) -> float | None:
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _distance(text: str, no_reading: frozenset[float]) -> float | None:
    """Centimetres as written by the sensor -> metres, or None for no reading."""
    cm = _number(text)
    if cm is None or cm < 0.0 or cm in no_reading:
        return None
    return cm / 100.0


def _is_confirmed(text: str) -> bool:
    if not text or text == "0":
        return False
    try:
        return int(text) > 0
    except ValueError:
        return False
