"""The plain data every ride-file reader returns, the error it raises on bad input, and the
byte handling (gzip, UTF-8) the readers share."""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from datetime import datetime

from matching_and_import_db.errors import PayloadTooLarge, UnprocessableInput


class RideFormatError(UnprocessableInput):
    """The uploaded ride file cannot be read; the message says why, in the rider's words."""


class NestedGzip(RideFormatError):
    """gzip inside gzip: refused before the inner layer is unpacked."""


@dataclass(frozen=True, slots=True)
class Measurement:
    """One CSV row or one GPX trackpoint."""

    time: datetime  # timezone-aware UTC
    lat: float | None  # None when the row has no GPS fix
    lon: float | None
    speed: float | None  # m/s
    course: float | None  # degrees, 0 = north, clockwise
    hdop: float | None
    satellites: int | None
    distance_left: float | None  # metres, handlebar offset already subtracted; None = no reading
    distance_right: float | None
    confirmed: bool  # the rider pressed the button on this row


@dataclass(frozen=True, slots=True)
class Overtake:
    """One confirmed overtaking event."""

    time: datetime  # UTC
    lat: float | None
    lon: float | None
    distance_left: float | None  # metres, handlebar offset already subtracted
    distance_right: float | None
    speed: float | None  # m/s of the bike


@dataclass
class ParsedRide:
    format: str  # "obs-2", "obs-1", "gpx"
    metadata: dict[str, str]  # the decoded metadata line (empty for format 1 / GPX)
    device_id: str | None
    firmware: str | None
    points: list[Measurement] = field(default_factory=list)
    events: list[Overtake] = field(default_factory=list)


# --- bytes handling shared by the readers -------------------------------------------------

GZIP_MAGIC = b"\x1f\x8b"
# what one gzip layer may unpack to when no caller says: the default upload limit
DEFAULT_MAX_UNPACKED = 32 * 1024 * 1024


@dataclass(frozen=True)
class RideLimits:
    """How big one ride may be; readers stop as soon as a file goes past it, so neither
    the web worker nor the scheduler ever holds more than this much of a ride."""

    max_points: int = 100_000
    max_hours: float = 24.0


def gunzip_if_compressed(data: bytes, max_bytes: int = DEFAULT_MAX_UNPACKED) -> bytes:
    """Return the data, decompressed when it starts with the gzip magic bytes.

    Decided by content, not by file name: riders rename files, and the OpenBikeSensor app
    uploads .csv.gz as well as plain .csv. One layer only, unpacked to at most max_bytes: a
    gzip inside the gzip (a "bomb" of a few hundred bytes unpacking to gigabytes) is refused.
    """
    if not data.startswith(GZIP_MAGIC):
        return data
    inflater = zlib.decompressobj(wbits=31)
    try:
        content = inflater.decompress(data, max_bytes + 1)
    except zlib.error as e:
        raise RideFormatError(
            "The file is gzip-compressed but damaged, so it cannot be unpacked. Upload the "
            "file again, or upload the uncompressed file.") from e
    if len(content) > max_bytes:
        raise PayloadTooLarge(f"The file is larger than the limit of {max_bytes} bytes once "
                              "unpacked.")
    if not inflater.eof:
        raise RideFormatError(
            "The file is gzip-compressed but damaged or incomplete (truncated), so it cannot "
            "be unpacked. Upload the file again, or upload the uncompressed file.")
    refuse_nested_gzip(content)
    return content


def refuse_nested_gzip(content: bytes) -> None:
    if content.startswith(GZIP_MAGIC):
        raise NestedGzip("The file is compressed twice (a gzip file inside a gzip file); "
                         "upload it compressed once, or uncompressed.")


def decode_utf8(data: bytes) -> str:
    """Decode UTF-8 text (a leading byte-order mark is tolerated) or refuse with a clear message."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise RideFormatError(
            f"The file is not readable text (byte {e.start} is not valid UTF-8). "
            "Upload the .csv file the OpenBikeSensor wrote, or a GPX file."
        ) from e
