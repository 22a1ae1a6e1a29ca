"""Reading features of a catalog layer as GeoJSON text, assembled by PostgreSQL.

Each row is one complete Feature built in SQL (ST_AsGeoJSON for the geometry,
json_build_object for the properties) and the rows are joined by string_agg, so Python
never holds a geometry object or parses a feature: the response is spliced around that one
string. No count(*) over the table: numberMatched is left out, and a next link is given
while a page comes back full.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from psycopg2 import sql

from app.dbapi import cursor
from app.params import check_date_range
from app.rides.privacy import round_to_weeks
from matching_and_import_db.errors import InputError, NotFound
from matching_and_import_db.layers.catalog import Layer, Property
from matching_and_import_db.layers.query import (
    effective_filter,
    feature_sql,
    property_param,
    statement_text,
)
from matching_and_import_db.rides.visibility import RideFilter

# the shapes a datetime may have (what the OpenAPI document promises, app/ogc/openapi.py):
# an RFC 3339 date or date-time, or an interval of two with ".." or nothing for an open end.
# Python's fromisoformat alone would take more (20240508, 2024-05-08T17), which the
# document does not allow; the calendar and the range are checked after this.
_INSTANT = (r"\d{4}-\d{2}-\d{2}([Tt ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?"
            r"([Zz]|[+-]\d{2}:\d{2})?)?")
DATETIME_PATTERN = rf"^({_INSTANT}|({_INSTANT}|\.\.)?/({_INSTANT}|\.\.)?)$"
# a property filter's value by the property's type, as the document's schema says it
VALUE_PATTERNS = {"integer": r"-?\d+", "number": r"-?\d+(\.\d+)?([eE][+-]?\d+)?",
                  "boolean": r"true|false"}

DEFAULT_LIMIT, MAX_LIMIT = 10, 10_000
MAX_OFFSET = 1_000_000
MAX_LAT = 85.05112878


@dataclass(frozen=True)
class Query:
    bbox: tuple[float, float, float, float] | None = None
    limit: int = DEFAULT_LIMIT
    offset: int = 0
    dt_from: datetime | None = None
    dt_to: datetime | None = None
    props: dict[str, str] = field(default_factory=dict)
    rides: RideFilter = RideFilter()


def clamp_to_web_mercator(bbox: tuple[float, float, float, float] | None):
    """A bbox (app.params.parse_bbox) with its latitudes clamped to web mercator's, where
    every layer's geometry is compared."""
    if bbox is None:
        return None
    x0, y0, x1, y1 = bbox
    return x0, max(y0, -MAX_LAT), x1, min(y1, MAX_LAT)


def _instant(text: str) -> datetime | None:
    if text in ("", ".."):
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise InputError(f"datetime must be RFC 3339 (2024-05-08T17:00:00Z) or an interval "
                         f"a/b with .. for open ends, got {text!r}") from None
    return check_date_range(moment, "datetime")


def parse_datetime(value: str | None) -> tuple[datetime | None, datetime | None]:
    if value is None:
        return None, None
    if not re.fullmatch(DATETIME_PATTERN, value):
        raise InputError(f"datetime must be RFC 3339 (2024-05-08T17:00:00Z) or an interval "
                         f"a/b with .. for open ends, got {value!r}")
    if "/" in value:
        start, _, end = value.partition("/")
        a, b = _instant(start), _instant(end)
        if a and b and a > b:
            raise InputError("datetime: the interval's start is after its end")
        return a, b
    moment = _instant(value)
    return moment, moment


def widen_datetime_to_weeks(rides: RideFilter, dt_from: datetime | None,
                            dt_to: datetime | None) -> RideFilter:
    """A datetime over other people's rides as the ride filter's time range, widened to
    the whole weeks it touches (the closed end included), and narrowed by from/to if those
    are given too: an exact window cannot single out one ride here either."""
    if dt_from is None and dt_to is None:
        return rides
    # the interval is closed: the week of its last instant is in it, even on a Monday 00:00
    start, end = round_to_weeks(dt_from, dt_to + timedelta(microseconds=1) if dt_to else None)
    if rides.date_from is not None and (start is None or rides.date_from > start):
        start = rides.date_from
    if rides.date_to is not None and (end is None or rides.date_to < end):
        end = rides.date_to
    return replace(rides, date_from=start, date_to=end)
def check_property_value(prop: Property, value: str) -> str:
    pattern = VALUE_PATTERNS.get(prop.type)
    if pattern and not re.fullmatch(pattern, value):
        raise InputError(f"{prop.name} is a{'n' if prop.type == 'integer' else ''} "
                         f"{prop.type}, got {value!r}")
    return value


def _params(layer: Layer, q: Query, flt: RideFilter) -> dict:
    params = {"limit": q.limit, "offset": q.offset, "dt_from": q.dt_from, "dt_to": q.dt_to,
              **flt.params(), **dict(layer.params)}
    if q.bbox:
        params.update(zip(("x0", "y0", "x1", "y1"), q.bbox, strict=True))
    params.update({property_param(k): v for k, v in q.props.items()})
    return params


def _fetch_one(key: tuple, build, params: dict):
    with cursor() as cur:
        cur.execute(statement_text(key, build, cur), params)
        return cur.fetchone()


def items(layer: Layer, q: Query) -> tuple[int, str]:
    """(features on this page, the features as comma-joined GeoJSON text)."""
    if q.offset > MAX_OFFSET:
        raise InputError(f"offset must be at most {MAX_OFFSET}; narrow the bbox instead")
    flt = effective_filter(layer, q.rides)
    shape, props = flt.shape(), tuple(sorted(q.props))
    has_bbox, has_from, has_to = q.bbox is not None, q.dt_from is not None, q.dt_to is not None

    def page() -> sql.Composed:
        features = feature_sql(layer, shape, bbox=has_bbox, one=False, datetime_from=has_from,
                               datetime_to=has_to, props=props)
        return sql.SQL("SELECT count(*), string_agg(f, ',') FROM ({}) AS page(f)").format(
            features)

    count, text = _fetch_one(("items", layer, shape, has_bbox, has_from, has_to, props), page,
                             _params(layer, q, flt))
    return count, text or ""


def item(layer: Layer, feature_id: str, rides: RideFilter) -> str:
    flt = effective_filter(layer, rides)
    shape = flt.shape()
    row = _fetch_one(("item", layer, shape),
                     lambda: feature_sql(layer, shape, bbox=False, one=True, datetime_from=False,
                                         datetime_to=False, props=()),
                     {**_params(layer, Query(limit=1), flt), "fid": feature_id})
    if row is None:
        raise NotFound(f"no feature {feature_id!r} in {layer.id}")
    return row[0]
