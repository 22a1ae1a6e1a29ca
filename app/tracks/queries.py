"""Read-side queries over rides: a ride's geometry and chart, events, road statistics,
summaries and exports. Every value is bound; who may see what is the one rule of
matching_and_import_db.tracks.visibility: published rides, plus the viewer's own."""

from __future__ import annotations

import gzip
from datetime import UTC, datetime

import orjson

from app.extensions import db
from app.models import Track, User
from app.tracks.service import is_owner
from matching_and_import_db.errors import NotFound
from matching_and_import_db.tracks import visibility
from matching_and_import_db.tracks.visibility import RideFilter

MAX_EXPORT_FEATURES = 50_000
BBOX_OVER_ROADS = "WHERE r.geom && ST_MakeEnvelope(%(x0)s, %(y0)s, %(x1)s, %(y1)s, 4326)"


def _rows(sql: str, params: dict):
    # psycopg2's own %(name)s placeholders, like every other SQL of ride data
    return db.session.connection().exec_driver_sql(sql, params).mappings().all()


# --- one ride -------------------------------------------------------------------------------

def track_geodata(track: Track, viewer: User | None) -> dict:
    """What the ride page draws. Others see processed data only, and only while the ride is
    published (the visibility rule, checked again here in the same statement as the read):
    the snapped line and the events; the owner also gets the recorded line and the chart
    series, in every state."""
    owner = is_owner(track, viewer)
    shown = f"(%(owner)s OR {visibility.PUBLISHED})"
    params = {"id": track.id, "owner": owner}
    rows = _rows("SELECT ST_AsGeoJSON(t.geom, 6) AS snapped, "
                 "CASE WHEN %(owner)s THEN ST_AsGeoJSON(t.geom_raw, 6) END AS raw, "
                 "CASE WHEN %(owner)s THEN t.series END AS series FROM tracks t "
                 f"WHERE t.id = %(id)s AND {shown}", params)
    if not rows:
        raise NotFound(f"no ride {track.id}")
    row = rows[0]
    events = _rows("SELECT e.id, e.time, e.distance_left, e.distance_right, e.speed, e.way_id, "
                   "e.direction, e.legal_minimum, ST_AsGeoJSON(e.geom, 6) AS geometry "
                   "FROM track_events e JOIN tracks t ON t.id = e.track_id "
                   f"WHERE e.track_id = %(id)s AND {shown} ORDER BY e.time", params)
    return {
        "snapped": orjson.loads(row["snapped"]) if row["snapped"] else None,
        "raw": orjson.loads(row["raw"]) if row["raw"] else None,
        "events": feature_collection(events),
        "series": orjson.loads(gzip.decompress(row["series"])) if row["series"] else None,
    }


def track_snaps(track: Track, viewer: User | None, geodata: dict) -> list[dict]:
    """Where each kept fix was snapped: its index, way, direction (+1 along the way's
    digitised order, -1 against, 0 unknown), offset along the way from its first vertex
    and distance to the fix (metres), and the snapped position. The owner also gets each
    fix's time and recorded position (from the chart series, in the same order)."""
    rows = _rows("SELECT way_id, direction, offset_m, distance_m, lon, lat FROM track_snaps "
                 "WHERE track_id = %(id)s", {"id": track.id})
    if not rows:
        return []
    row = rows[0]
    series = geodata.get("series") if is_owner(track, viewer) else None
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
    return _rows(
        f"""SELECT e.id, e.time, e.distance_left, e.distance_right, e.speed, e.way_id,
                   e.direction, e.legal_minimum, e.distance_left < e.legal_minimum AS too_close,
                   ST_AsGeoJSON(e.geom, 6) AS geometry
            FROM track_events e JOIN tracks t ON t.id = e.track_id
            WHERE {flt.where("e.time", "e.geom")}
            ORDER BY e.time LIMIT {MAX_EXPORT_FEATURES}""", flt.params())


def road_statistics(flt: RideFilter) -> list:
    """Per way and direction. Without a time range or scope this is the maintained
    road_stats table; with one, the same figures are computed from the rides in it."""
    if not flt.filtered:
        bbox_sql = BBOX_OVER_ROADS if flt.bbox else ""
        return _rows(
            f"""SELECT s.way_id AS id, s.way_id, s.direction, r.name, r.highway, s.passes,
                       s.events, s.distance_mean, s.distance_median, s.distance_min,
                       s.distance_max, s.below_minimum, s.legal_minimum,
                       ST_AsGeoJSON(r.geom, 6) AS geometry
                FROM road_stats s JOIN osm_roads r ON r.osm_id = s.way_id {bbox_sql}
                ORDER BY s.way_id, s.direction LIMIT {MAX_EXPORT_FEATURES}""", flt.params())
    where_events = flt.where("e.time", "e.geom")
    where_usage = flt.where("u.time", None)
    return _rows(
        f"""WITH ev AS (
                SELECT e.way_id, e.direction, e.distance_left AS d, e.legal_minimum
                FROM track_events e JOIN tracks t ON t.id = e.track_id
                WHERE {where_events} AND e.way_id IS NOT NULL
            ), us AS (
                SELECT u.way_id, u.direction, count(*) AS passes
                FROM road_usage u JOIN tracks t ON t.id = u.track_id
                WHERE {where_usage} GROUP BY 1, 2
            ), st AS (
                SELECT way_id, direction, count(d) AS events, avg(d) AS distance_mean,
                       percentile_cont(0.5) WITHIN GROUP (ORDER BY d) AS distance_median,
                       min(d) AS distance_min, max(d) AS distance_max,
                       count(*) FILTER (WHERE d < legal_minimum) AS below_minimum,
                       max(legal_minimum) AS legal_minimum
                FROM ev GROUP BY 1, 2
            )
            SELECT r.osm_id AS id, r.osm_id AS way_id, k.direction, r.name, r.highway,
                   coalesce(us.passes, 0) AS passes, coalesce(st.events, 0) AS events,
                   st.distance_mean, st.distance_median, st.distance_min, st.distance_max,
                   coalesce(st.below_minimum, 0) AS below_minimum, st.legal_minimum,
                   ST_AsGeoJSON(r.geom, 6) AS geometry
            FROM (SELECT way_id, direction FROM us UNION SELECT way_id, direction FROM st) k
            JOIN osm_roads r ON r.osm_id = k.way_id
            LEFT JOIN us ON us.way_id = k.way_id AND us.direction = k.direction
            LEFT JOIN st ON st.way_id = k.way_id AND st.direction = k.direction
            {BBOX_OVER_ROADS if flt.bbox else ""}
            ORDER BY r.osm_id, k.direction LIMIT {MAX_EXPORT_FEATURES}""", flt.params())


def road_detail(way_id: int) -> dict:
    """The road panel: the way, and per direction its statistics and histogram."""
    road = _rows("SELECT osm_id, name, highway, oneway, maxspeed, zone_traffic "
                 "FROM osm_roads WHERE osm_id = %(id)s", {"id": way_id})
    if not road:
        raise NotFound(f"no road {way_id}")
    stats = _rows("SELECT direction, passes, events, distance_mean, distance_median, "
                  "distance_min, distance_max, below_minimum, legal_minimum, histogram "
                  "FROM road_stats WHERE way_id = %(id)s ORDER BY direction DESC", {"id": way_id})
    return {"road": dict(road[0]), "directions": [
        {**dict(s), "below_share": (s["below_minimum"] / s["events"]) if s["events"] else None,
         "histogram_bucket_m": 0.25} for s in stats]}


# --- summaries -----------------------------------------------------------------------------------

def summary(flt: RideFilter) -> dict:
    """Rides, km, hours, events and the share of close passes, for a scope and time."""
    where = flt.where("t.recorded_at", None)
    totals = _rows(f"""SELECT count(*) AS tracks, coalesce(sum(t.length_m), 0) / 1000 AS km,
                              coalesce(sum(t.duration_s), 0) / 3600 AS hours
                       FROM tracks t WHERE {where}""", flt.params())[0]
    ev_where = flt.where("e.time", None)
    ev = _rows(f"""SELECT count(*) AS events,
                          count(*) FILTER (WHERE e.distance_left < e.legal_minimum) AS close
                   FROM track_events e JOIN tracks t ON t.id = e.track_id
                   WHERE {ev_where}""", flt.params())[0]
    return {
        "tracks": totals["tracks"], "km": round(float(totals["km"]), 2),
        "hours": round(float(totals["hours"]), 2), "events": ev["events"],
        "close_passes": ev["close"],
        "close_share": round(ev["close"] / ev["events"], 4) if ev["events"] else None,
        "from": flt.date_from.isoformat() if flt.date_from else None,
        "to": flt.date_to.isoformat() if flt.date_to else None,
    }
