"""Query-string values every API reads the same way: a bounding box and bounded integers.
Bad values raise InputError naming the parameter (400 with the API's error shape)."""

from __future__ import annotations

from matching_and_import_db.errors import InputError


def parse_bbox(value: str | None) -> tuple[float, float, float, float] | None:
    """`minlon,minlat,maxlon,maxlat` in WGS84, or None when absent."""
    if not value:
        return None
    try:
        x0, y0, x1, y1 = (float(v) for v in value.split(","))
    except ValueError:
        raise InputError("bbox must be four numbers: min lon, min lat, max lon, max lat") \
            from None
    if not (-180 <= x0 < x1 <= 180 and -90 <= y0 < y1 <= 90):
        raise InputError("bbox must be min lon, min lat, max lon, max lat, with min < max, "
                         "inside -180..180 and -90..90")
    return x0, y0, x1, y1


def parse_int(value: str | None, name: str, default: int, low: int, high: int,
              clamp: bool = False) -> int:
    """clamp: a value above high becomes high instead of an error (OGC API Features asks
    servers to cap a too-large limit rather than refuse it)."""
    if value is None or value == "":
        return default
    try:
        number = int(value)
    except ValueError:
        raise InputError(f"{name} must be a whole number, got {value!r}") from None
    if clamp and number > high:
        return high
    if not low <= number <= high:
        raise InputError(f"{name} must be between {low} and {high}, got {number}")
    return number
