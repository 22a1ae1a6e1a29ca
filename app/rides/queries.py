"""Read-side queries over rides: a ride's geometry and chart, events, road statistics,
summaries and exports. Every value is bound; who may see what is the one rule of
matching_and_import_db.rides.visibility: published rides, plus the viewer's own."""

from __future__ import annotations

import gzip
from datetime import UTC, datetime

import orjson
from psycopg2 import sql

from app.dbapi import fetch_dicts
from app.models import Ride, User
from app.rides.service import is_owner
from matching_and_import_db.errors import NotFound
from matching_and_import_db.rides import visibility
from matching_and_import_db.rides.visibility import RideFilter
from matching_and_import_db.sqlfiles import load_sql

MAX_EXPORT_FEATURES = 50_000
PACKAGE = "app.rides"
# the columns a RideFilter's time range and bbox apply to
E_TIME, E_GEOM = sql.Identifier("e", "time"), sql.Identifier("e", "geom")
U_TIME, T_RECORDED_AT = sql.Identifier("u", "time"), sql.Identifier("t", "recorded_at")
R_GEOM = sql.Identifier("r", "geom")


def _in_bbox(geom_column: sql.Composable) -> sql.Composed:
    return sql.SQL("{} && ST_MakeEnvelope(%(x0)s, %(y0)s, %(x1)s, %(y1)s, 4326)").format(
        geom_column)


def _rows(name: str, params: dict, **parts: sql.Composable) -> list[dict]:
    return fetch_dicts(load_sql(PACKAGE, name, **parts), params)


# --- one ride -------------------------------------------------------------------------------

def ride_geodata(ride: Ride, viewer: User | None) -> dict:
    """What the ride page draws. Others see processed data only, and only while the ride is
    published (the visibility rule, checked again here in the same statement as the read):
    the snapped line and the events; the owner also gets the recorded line and the chart
    series, in every state."""
    owner = is_owner(ride, viewer)
    published = visibility.PUBLISHED
    params = {"id": ride.id, "owner": owner}
    rows = _rows("ride_geodata.sql", params, published=published)
    if not rows:
        raise NotFound(f"no ride {ride.id}")
    row = rows[0]
    events = _rows("ride_events.sql", params, published=published)
    return {
        "snapped": orjson.loads(row["snapped"]) if row["snapped"] else None,
        "raw": orjson.loads(row["raw"]) if row["raw"] else None,
        "events": feature_collection(events),
        "series": orjson.loads(gzip.decompress(row["series"])) if row["series"] else None,
    }


def ride_snaps(ride: Ride, viewer: User | None, geodata: dict) -> list[dict]:
    """Where each kept fix was snapped: its index, way, direction (+1 along the way's
    digitised order, -1 against, 0 unknown), offset along the way from its first vertex
    and distance to the fix (metres), and the snapped position. The owner also gets each
    fix's time and recorded position (from the chart series, in the same order)."""
    rows = _rows("ride_snaps.sql", {"id": ride.id})
    if not rows:
        return []
    row = rows[0]
    series = geodata.get("series") if is_owner(ride, viewer) else None
    out = []
    for i, way in enumerate(row["way_id"]):
        record = {"index": i, "way_id": way if way >= 0 else None,
                  "direction": row["direction"][i], "offset_m": row["offset_m"][i],
                  "distance_m": row["distance_m"][i], "lon": row["lon"][i],
                  "lat": row["lat"][i]}
        if series is not None:
            record["time"] = datetime.fromtimestamp(series["start"] + series["t"][i],
                                                    UTC).isoformat()
            record["recorded_lon"], record["recorded_lat"] = series["lon"][i], series["lat"][i]
        out.append(record)
    return out


def feature_collection(rows) -> dict:
    features = []
    for r in rows:
        props = {k: (v.isoformat() if isinstance(v, datetime) else v)
                 for k, v in r.items() if k not in ("geometry", "id")}
        features.append({"type": "Feature", "id": r["id"],
                         "geometry": orjson.loads(r["geometry"]), "properties": props})
    return {"type": "FeatureCollection", "features": features}


# --- events and roads -------------------------------------------------------------------------

def events(flt: RideFilter) -> list:
    where, params = flt.where(E_TIME, E_GEOM), flt.params()
    return _rows("events.sql", {**params, "limit": MAX_EXPORT_FEATURES}, where=where)


def road_statistics(flt: RideFilter) -> list:
    """Per way and direction. Without a time range or scope this is the maintained
    road_stats table; with one, the same figures are computed from the rides in it."""
    bbox = _in_bbox(R_GEOM) if flt.bbox else sql.SQL("true")
    box = dict(zip(("x0", "y0", "x1", "y1"), flt.bbox, strict=True)) if flt.bbox else {}
    if flt.date_from is None and flt.date_to is None and not flt.mine:
        return _rows("road_stats_maintained.sql", {**box, "limit": MAX_EXPORT_FEATURES},
                     bbox=bbox)
    where_events, params = flt.where(E_TIME, E_GEOM), flt.params()
    where_usage = flt.where(U_TIME, None)
    return _rows("road_stats_filtered.sql", {**params, **box, "limit": MAX_EXPORT_FEATURES},
                 where_events=where_events, where_usage=where_usage, bbox=bbox)


def road_detail(way_id: int) -> dict:
    """The road panel: the way, and per direction its statistics and histogram."""
    road = _rows("road.sql", {"id": way_id})
    if not road:
        raise NotFound(f"no road {way_id}")
    stats = _rows("road_directions.sql", {"id": way_id})
    return {"road": road[0], "directions": [
        {**s, "below_share": (s["below_minimum"] / s["events"]) if s["events"] else None,
         "histogram_bucket_m": 0.25} for s in stats]}


# --- summaries -----------------------------------------------------------------------------------

def summary(flt: RideFilter) -> dict:
    """Rides, km, hours, events and the share of close passes, for a scope and time."""
    where, params = flt.where(T_RECORDED_AT, None), flt.params()
    totals = _rows("summary_rides.sql", params, where=where)[0]
    ev_where, ev_params = flt.where(E_TIME, None), flt.params()
    ev = _rows("summary_events.sql", ev_params, where=ev_where)[0]
    return {
        "rides": totals["rides"], "km": round(float(totals["km"]), 2),
        "hours": round(float(totals["hours"]), 2), "events": ev["events"],
        "close_passes": ev["close"],
        "close_share": round(ev["close"] / ev["events"], 4) if ev["events"] else None,
        "from": flt.date_from.isoformat() if flt.date_from else None,
        "to": flt.date_to.isoformat() if flt.date_to else None,
    }
