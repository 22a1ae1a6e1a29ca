"""The one input layer: checks every request passes (no NUL bytes, bounded lengths), the
values every view reads the same way (a bounding box, bounded integers, dates in range) and
links built from an allow-list of parameters. Bad values raise InputError naming the
parameter (400 with the API's error shape)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from urllib.parse import urlsplit

from flask import Flask, current_app, request, url_for

from matching_and_import_db.errors import InputError


def parse_bbox(value: str | None) -> tuple[float, float, float, float] | None:
    """`minlon,minlat,maxlon,maxlat` in WGS84 (CRS84), or None when absent; six numbers
    (with min and max heights, as OGC API Features allows) have their heights dropped.
    Every view that takes a bbox reads it here, so they refuse the same boxes with the
    same messages: min must be below max, inside -180..180 and -90..90."""
    if not value:
        return None
    try:
        parts = [float(v) for v in value.split(",")]
    except ValueError:
        raise InputError("bbox must be four numbers: min lon, min lat, max lon, max lat") \
            from None
    if len(parts) == 6:  # 3D: drop the heights
        parts = [parts[0], parts[1], parts[3], parts[4]]
    if len(parts) != 4:
        raise InputError("bbox must be four numbers: min lon, min lat, max lon, max lat "
                         f"(or six, with heights), got {len(parts)}")
    x0, y0, x1, y1 = parts
    # NaN fails every comparison, so it is refused here too
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


# --- dates -------------------------------------------------------------------------------

# Rides are recent; a bound well inside datetime's range keeps the week rounding
# (app/rides/privacy.py) and PostgreSQL's timestamptz from overflowing at year 1 or 9999.
MIN_DATE = datetime(1900, 1, 1, tzinfo=UTC)
MAX_DATE = datetime(2200, 1, 1, tzinfo=UTC)


def check_date_range(moment: datetime, name: str) -> datetime:
    """moment in UTC-aware form, or InputError naming the parameter when out of range."""
    moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    try:
        in_range = MIN_DATE <= moment < MAX_DATE
    except OverflowError:  # an offset that moves year 1 or 9999 out of datetime's range
        in_range = False
    if not in_range:
        raise InputError(f"{name} must lie between {MIN_DATE:%Y-%m-%d} and "
                         f"{MAX_DATE:%Y-%m-%d}, got {moment.isoformat()}")
    return moment


def parse_date(value: str | None, name: str) -> datetime | None:
    """An ISO 8601 date or date-time (UTC unless it says otherwise), or None when absent."""
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise InputError(f"{name} must be a date like 2024-05-31 (ISO 8601), got {value!r}") \
            from None
    return check_date_range(parsed, name)


# --- every request, once -----------------------------------------------------------------

MAX_QUERY_PARAMS = 50
MAX_NAME_LENGTH = 100      # a parameter's or form field's name
MAX_QUERY_VALUE = 2_000    # a bbox, a search, a date: all far shorter
MAX_FORM_VALUE = 100_000   # a pipeline's JSON settings are the longest form field
MAX_FILENAME = 255
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def _check_text(value: str, what: str, limit: int) -> None:
    # PostgreSQL text cannot hold NUL (psycopg2 refuses it), and no field of ours needs it
    if "\x00" in value:
        raise InputError(f"{what} contains a NUL byte")
    if len(value) > limit:
        raise InputError(f"{what} is too long: {len(value)} characters, at most {limit}")


def check_request_inputs() -> None:
    """A before_request hook: the checks every route shares, so no view meets a NUL byte
    or a megabyte-long parameter. Views still parse their own values (parse_int, …)."""
    _check_text(request.path, "the path", 2_000)
    if len(request.args) > MAX_QUERY_PARAMS:
        raise InputError(f"too many query parameters: at most {MAX_QUERY_PARAMS}")
    for name, value in request.args.items(multi=True):
        _check_text(name, "a query parameter's name", MAX_NAME_LENGTH)
        _check_text(value, f"the query parameter {name!r}", MAX_QUERY_VALUE)
    for name, value in request.headers.items():
        if "\x00" in value:
            raise InputError(f"the header {name!r} contains a NUL byte")
    if request.mimetype in FORM_TYPES:
        for name, value in request.form.items(multi=True):
            _check_text(name, "a form field's name", MAX_NAME_LENGTH)
            _check_text(value, f"the form field {name!r}", MAX_FORM_VALUE)
        for name, file in request.files.items(multi=True):
            _check_text(file.filename or "", f"the name of the file in {name!r}",
                        MAX_FILENAME)


def init_input_checks(app: Flask) -> None:
    app.before_request(check_request_inputs)


# --- links -------------------------------------------------------------------------------

def link_to(endpoint: str, keep: Iterable[str] = (), external: bool = False,
            **values) -> str:
    """A link to endpoint with this request's path values, the query parameters named in
    keep (an allow-list: never url_for's own _external, _method, … nor its endpoint) and
    values. external: absolute from PORTAL_PUBLIC_URL, never from the request's Host."""
    args = {k: v for k in keep if (v := request.args.get(k)) not in (None, "")}
    args.update(values)
    path = url_for(endpoint, **{**(request.view_args or {}), **args})
    if not external:
        return path
    public = urlsplit(current_app.config["PORTAL"].public_url)
    return f"{public.scheme}://{public.netloc}{path}"
