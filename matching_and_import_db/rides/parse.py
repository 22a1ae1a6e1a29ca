"""One entry point for an uploaded ride file: find out what it is and read it."""

from __future__ import annotations

import re

from matching_and_import_db.rides.gpx import read_gpx
from matching_and_import_db.rides.model import (
    ParsedRide,
    RideFormatError,
    RideLimits,
    gunzip_if_compressed,
)
from matching_and_import_db.rides.obs_csv import read_obs_csv

# the root element within the first few kB, with or without a namespace prefix
_GPX_ROOT = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?gpx[\s>/]")
# the OpenBikeSensor's binary recording format, which the portal reads and we do not (yet)
_BINARY_OBS_NAME = re.compile(r"\.(obsr?|cobs|bin)(\.gz)?$", re.IGNORECASE)


def parse_ride_file(data: bytes, filename: str | None = None,
                     limits: RideLimits = RideLimits()) -> ParsedRide:
    """Read a ride file: an OpenBikeSensor CSV or a GPX file, either possibly gzip-compressed.

    The content decides, not the name (riders rename files); the name only sharpens the
    message for a file we cannot read. Raises RideFormatError (an InputError) when the file
    is unusable or goes past the limits; nothing partial is returned.
    """
    raw = gunzip_if_compressed(data)
    if not raw.strip():
        raise RideFormatError("The file is empty.")

    start = raw.lstrip(b"\xef\xbb\xbf \t\r\n")[:4096]
    if start.startswith(b"<"):
        if _GPX_ROOT.search(start):
            return read_gpx(raw, limits)
        raise RideFormatError(
            "The file is XML or HTML but not GPX. Upload the .csv file the OpenBikeSensor "
            "wrote, or a GPX file of the ride."
        )

    if start.startswith((b"{", b"[")):
        raise RideFormatError(
            "The file is JSON (for example a GeoJSON export from a portal), not a recorded "
            "ride. Upload the .csv file the OpenBikeSensor wrote, or a GPX file of the ride."
        )
    if filename and _BINARY_OBS_NAME.search(filename) and not _is_utf8(raw):
        raise RideFormatError(
            "This is an OpenBikeSensor binary recording, which cannot be imported yet. "
            "Upload the .csv file of the ride instead."
        )
    return read_obs_csv(raw, limits)


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True
