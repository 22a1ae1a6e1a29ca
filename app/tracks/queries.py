"""Read-side queries over rides: a ride's geometry and chart, events, road statistics,
summaries and exports. Every value is bound; who may see what is the one rule of
matching_and_import_db.tracks.visibility: published rides, plus the viewer's own."""

from __future__ import annotations

import gzip
from dataclasses import dataclass
from datetime import datetime

import orjson
from sqlalchemy import text

from app.extensions import db
from app.models import Track, User
from app.tracks.service import is_owner
from matching_and_import_db.errors import NotFound
from matching_and_import_db.tracks import visibility

MAX_EXPORT_FEATURES = 50_000


@dataclass(frozen=True)
class Filter:
    """Which rides' data a query covers: a bbox (lon/lat), a time range, and scope."""

    bbox: tuple[float, float, float, float] | None = None
    date_from: datetime | None = None
    date_to: datetime | None = None
    viewer_id: int | None = None
    mine_only: bool = False

    def where(self, time_column: str, geom_column: str | None) -> tuple[str, dict]:
        clauses = [visibility.own(":viewer_id") if self.mine_only
                   else visibility.published_or_own(":viewer_id")]
        params: dict = {"viewer_id": self.viewer_id}
        if self.date_from:
            clauses.append(f"{time_column} >= :date_from")
            params["date_from"] = self.date_from
        if self.date_to:
            clauses.append(f"{time_column} < :date_to")
            params["date_to"] = self.date_to
        if self.bbox and geom_column:
            clauses.append(f"{geom_column} && ST_MakeEnvelope(:x0, :y0, :x1, :y1, 4326)")
            params.update(zip(("x0", "y0", "x1", "y1"), self.bbox, strict=True))
        return " AND ".join(clauses), params


def _rows(sql: str, params: dict):
    return db.session.execute(text(sql), params).mappings().all()


# --- one ride -------------------------------------------------------------------------------

def track_geodata(track: Track, viewer: User | None) -> dict:
    """What the ride page draws. Others see processed data only, and only while the ride is
    published (the visibility rule, checked again here in the same statement as the read):
    the snapped line and the events; the owner also gets the recorded line and the chart
    series, in every state."""
    owner = is_owner(track, viewer)
    shown = f"(:owner OR {visibility.PUBLISHED})"
    params = {"id": track.id, "owner": owner}
    rows = _rows("SELECT ST_AsGeoJSON(t.geom, 6) AS snapped, "
                 "CASE WHEN :owner THEN ST_AsGeoJSON(t.geom_raw, 6) END AS raw, "
                 "CASE WHEN :owner THEN t.series END AS series FROM tracks t "
                 f"WHERE t.id = :id AND {shown}", params)
    if not rows:
        raise NotFound(f"no ride {track.id}")
    row = rows[0]
    events = _rows("SELECT e.id, e.time, e.distance_left, e.distance_right, e.speed, e.way_id, "
                   "e.direction, e.legal_minimum, ST_AsGeoJSON(e.geom, 6) AS geometry "
                   "FROM track_events e JOIN tracks t ON t.id = e.track_id "
                   f"WHERE e.track_id = :id AND {shown} ORDER BY e.time", params)
    return {
        "snapped": orjson.loads(row["snapped"]) if row["snapped"] else None,
        "raw": orjson.loads(row["raw"]) if row["raw"] else None,
        "events": feature_collection(events),
        "series": orjson.loads(gzip.decompress(row["series"])) if row["series"] else None,
    }


def feature_collection(rows) -> dict:
    features = []
    for r in rows:
        props = {k: (v.isoformat() if isinstance(v, datetime) else v)
                 for k, v in r.items() if k not in ("geometry", "id")}
        features.append({"type": "Feature", "id": r["id"],
                         "geometry": orjson.loads(r["geometry"]), "properties": props})
    return {"type": "FeatureCollection", "features": features}


# --- events and roads -------------------------------------------------------------------------

def events(flt: Filter) -> list:
    where, params = flt.where("e.time", "e.geom")
    return _rows(
        f"""SELECT e.id, e.time, e.distance_left, e.distance_right, e.speed, e.way_id,
                   e.direction, e.legal_minimum, e.distance_left < e.legal_minimum AS too_close,
                   ST_AsGeoJSON(e.geom, 6) AS geometry
            FROM track_events e JOIN tracks t ON t.id = e.track_id
            WHERE {where} ORDER BY e.time LIMIT {MAX_EXPORT_FEATURES}""", params)


def road_statistics(flt: Filter) -> list:
    """Per way and direction. Without a time range or scope this is the maintained
    road_stats table; with one, the same figures are computed from the rides in it."""
    if flt.date_from is None and flt.date_to is None and not flt.mine_only:
        bbox_sql, params = "", {}
        if flt.bbox:
            bbox_sql = "WHERE r.geom && ST_MakeEnvelope(:x0, :y0, :x1, :y1, 4326)"
            params = dict(zip(("x0", "y0", "x1", "y1"), flt.bbox, strict=True))
        return _rows(
            f"""SELECT s.way_id AS id, s.way_id, s.direction, r.name, r.highway, s.passes,
                       s.events, s.distance_mean, s.distance_median, s.distance_min,
                       s.distance_max, s.below_minimum, s.legal_minimum,
                       ST_AsGeoJSON(r.geom, 6) AS geometry
                FROM road_stats s JOIN osm_roads r ON r.osm_id = s.way_id {bbox_sql}
                ORDER BY s.way_id, s.direction LIMIT {MAX_EXPORT_FEATURES}""", params)
    where_events, params = flt.where("e.time", "e.geom")
    where_usage, _ = flt.where("u.time", None)
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
            {"WHERE r.geom && ST_MakeEnvelope(:x0, :y0, :x1, :y1, 4326)" if flt.bbox else ""}
            ORDER BY r.osm_id, k.direction LIMIT {MAX_EXPORT_FEATURES}""", params)


def road_detail(way_id: int) -> dict:
    """The road panel: the way, and per direction its statistics and histogram."""
    road = _rows("SELECT osm_id, name, highway, oneway, maxspeed, zone_traffic "
                 "FROM osm_roads WHERE osm_id = :id", {"id": way_id})
    if not road:
        raise NotFound(f"no road {way_id}")
    stats = _rows("SELECT direction, passes, events, distance_mean, distance_median, "
                  "distance_min, distance_max, below_minimum, legal_minimum, histogram "
                  "FROM road_stats WHERE way_id = :id ORDER BY direction DESC", {"id": way_id})
    return {"road": dict(road[0]), "directions": [
        {**dict(s), "below_share": (s["below_minimum"] / s["events"]) if s["events"] else None,
         "histogram_bucket_m": 0.25} for s in stats]}


# --- summaries -----------------------------------------------------------------------------------

def summary(flt: Filter) -> dict:
    """Rides, km, hours, events and the share of close passes, for a scope and time."""
    where, params = flt.where("t.recorded_at", None)
    totals = _rows(f"""SELECT count(*) AS tracks, coalesce(sum(t.length_m), 0) / 1000 AS km,
                              coalesce(sum(t.duration_s), 0) / 3600 AS hours
                       FROM tracks t WHERE {where}""", params)[0]
    ev_where, ev_params = flt.where("e.time", None)
    ev = _rows(f"""SELECT count(*) AS events,
                          count(*) FILTER (WHERE e.distance_left < e.legal_minimum) AS close
                   FROM track_events e JOIN tracks t ON t.id = e.track_id
                   WHERE {ev_where}""", ev_params)[0]
    return {
        "tracks": totals["tracks"], "km": round(float(totals["km"]), 2),
        "hours": round(float(totals["hours"]), 2), "events": ev["events"],
        "close_passes": ev["close"],
        "close_share": round(ev["close"] / ev["events"], 4) if ev["events"] else None,
        "from": flt.date_from.isoformat() if flt.date_from else None,
        "to": flt.date_to.isoformat() if flt.date_to else None,
    }
