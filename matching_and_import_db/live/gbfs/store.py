"""The poller's reads and writes in PostGIS: feeds, the state of their files, the published
stations, vehicles and zones (the tables the layer catalog serves) and the station history,
which stores a row only when a station's availability changed."""

from __future__ import annotations

from datetime import datetime

import orjson
from psycopg2.extras import Json, execute_batch, execute_values

from matching_and_import_db.live.gbfs.model import (
    AvailabilityPoint,
    Feed,
    FeedFile,
    Station,
    Vehicle,
    Zone,
)
from matching_and_import_db.sqlfiles import load_sql


def _sql(name: str):
    return load_sql(__package__, name)


def _feed(row) -> Feed:
    slug, url, headers, language, stale, reason = row
    return Feed(slug=slug, url=url, headers=headers or {}, language=language, stale=stale,
                stale_reason=reason)


def feeds_by_due(conn) -> list[tuple[Feed, datetime | None]]:
    """Every enabled feed with when it is due (None: just added), soonest first."""
    with conn.cursor() as cur:
        cur.execute(_sql("feeds_by_due.sql"))
        return [(_feed(r[:6]), r[6]) for r in cur.fetchall()]


def feed_by_slug(conn, slug: str) -> Feed | None:
    with conn.cursor() as cur:
        cur.execute(_sql("feed_by_slug.sql"), {"slug": slug})
        row = cur.fetchone()
    return _feed(row) if row else None


def feed_files(conn, slug: str) -> dict[str, FeedFile]:
    with conn.cursor() as cur:
        cur.execute(_sql("feed_files.sql"), {"feed": slug})
        return {r[0]: FeedFile(*r[:10], orjson.loads(r[10]) if r[10] else None, r[11])
                for r in cur.fetchall()}


def save_file(conn, slug: str, f: FeedFile, fetched_at: datetime, data_changed: bool) -> None:
    save_files(conn, slug, [(f, fetched_at, data_changed)])


def save_files(conn, slug: str, saves: list[tuple[FeedFile, datetime, bool]]) -> None:
    """The state of the files a poll fetched (each with when, and whether its data is new:
    a 304 or a failure keeps the stored data), in one round trip."""
    with conn.cursor() as cur:
        execute_batch(cur, _sql("save_file.sql"), [{
            "feed": slug, "name": f.name, "url": f.url, "version": f.version, "etag": f.etag,
            "last_modified": f.last_modified, "last_updated": f.last_updated, "ttl": f.ttl,
            "next_due_at": f.next_due_at, "failures": f.failures, "error": f.error,
            "data": Json(f.data, dumps=lambda v: orjson.dumps(v).decode())
            if data_changed and f.data is not None else None,
            "warnings": Json(f.warnings),
            "fetched_at": fetched_at} for f, fetched_at, data_changed in saves],
            page_size=100)


def drop_unlisted_files(conn, slug: str, keep: list[str]) -> None:
    with conn.cursor() as cur:
        cur.execute(_sql("drop_unlisted_files.sql"), {"feed": slug, "keep": keep})


def set_feed_status(conn, slug: str, *, stale: bool, reason: str | None,
                    warnings: list[str], version: str | None, system_name: str | None,
                    success: bool, now: datetime) -> None:
    with conn.cursor() as cur:
        cur.execute(_sql("set_feed_status.sql"), {
            "feed": slug, "stale": stale, "stale_reason": reason,
            "warnings": Json(warnings), "version": version, "system_name": system_name,
            "success": success, "now": now})


def published_stations(conn, slug: str) -> dict[str, Station]:
    with conn.cursor() as cur:
        cur.execute(_sql("published_stations.sql"), {"feed": slug})
        return {r[0]: Station(*r[:2], float(r[2]), float(r[3]), *r[4:])
                for r in cur.fetchall()}


def _availability(s: Station) -> tuple:
    return (s.num_bikes_available, s.num_docks_available, s.is_renting, s.is_returning)


def write_stations(conn, slug: str, stations: list[Station], recorded_at: datetime
                   ) -> tuple[list[Station], list[str]]:
    """Publish the feed's stations; returns (changed or new, removed ids). A history row is
    written for each station whose availability changed (or that is new)."""
    before = published_stations(conn, slug)
    now_ids = {s.station_id for s in stations}
    changed = [s for s in stations if before.get(s.station_id) != s]
    removed = [sid for sid in before if sid not in now_ids]
    moved = [s for s in changed if s.station_id not in before
             or _availability(before[s.station_id]) != _availability(s)]
    with conn.cursor() as cur:
        if changed:
            execute_values(cur, _sql("upsert_stations.sql").as_string(cur), [
                (slug, s.station_id, s.name, s.capacity, s.num_bikes_available,
                 s.num_docks_available, s.is_renting, s.is_returning, s.last_reported,
                 s.lon, s.lat) for s in changed],
                template="(%s, %s, %s, %s, %s, %s, %s, %s, %s, "
                         "ST_SetSRID(ST_MakePoint(%s, %s), 4326))", page_size=1000)
        if removed:
            cur.execute(_sql("delete_stations.sql"), {"feed": slug, "ids": removed})
        if moved:
            execute_values(cur, _sql("insert_history.sql").as_string(cur), [
                (slug, s.station_id, recorded_at, *_availability(s)) for s in moved],
                page_size=1000)
    return changed, removed


def replace_vehicles(conn, slug: str, vehicles: list[Vehicle]) -> list[str]:
    """Publish the feed's vehicles; returns the ids that are gone."""
    with conn.cursor() as cur:
        cur.execute(_sql("published_vehicle_ids.sql"), {"feed": slug})
        before = {r[0] for r in cur.fetchall()}
        cur.execute(_sql("delete_vehicles.sql"), {"feed": slug})
        if vehicles:
            execute_values(cur, _sql("insert_vehicles.sql").as_string(cur), [
                (slug, v.vehicle_id, v.vehicle_type_id, v.form_factor, v.is_reserved,
                 v.is_disabled, v.current_range_meters, v.station_id, v.lon, v.lat)
                for v in vehicles],
                template="(%s, %s, %s, %s, %s, %s, %s, %s, "
                         "ST_SetSRID(ST_MakePoint(%s, %s), 4326))", page_size=1000)
    return sorted(before - {v.vehicle_id for v in vehicles})


def replace_zones(conn, slug: str, zones: list[Zone]) -> list[int]:
    with conn.cursor() as cur:
        cur.execute(_sql("published_zone_indexes.sql"), {"feed": slug})
        before = {r[0] for r in cur.fetchall()}
        cur.execute(_sql("delete_zones.sql"), {"feed": slug})
        if zones:
            execute_values(cur, _sql("insert_zones.sql").as_string(cur), [
                (slug, z.index, z.name, Json(z.rules), orjson.dumps(z.geometry).decode())
                for z in zones],
                template="(%s, %s, %s, %s, ST_Multi(ST_SetSRID(ST_GeomFromGeoJSON(%s), 4326)))")
    return sorted(before - {z.index for z in zones})


def prune_history(conn, before: datetime) -> int:
    with conn.cursor() as cur:
        cur.execute(_sql("prune_history.sql"), {"before": before})
        return cur.rowcount


def station_history(conn, slug: str, station_id: str, since: datetime
                    ) -> list[AvailabilityPoint]:
    with conn.cursor() as cur:
        cur.execute(_sql("station_history.sql"),
                    {"feed": slug, "station_id": station_id, "since": since})
        return [AvailabilityPoint(*r) for r in cur.fetchall()]
