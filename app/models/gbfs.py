"""GBFS bike-share feeds: the feeds operators added, the state of each of their files (when
due, validators, the last good data), the published stations, vehicles and zones, and the
availability history of every station (changes only).

One writer: the poller (matching_and_import_db.live.gbfs.store) writes every table but
gbfs_feeds' configuration, which the web app and the CLI write (app/live/gbfs_service.py).
"""

from __future__ import annotations

from datetime import datetime

from geoalchemy2 import Geometry
from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Computed,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    Text,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db

FEED_FK = dict(ondelete="CASCADE", onupdate="CASCADE")


class GbfsFeed(db.Model):
    __tablename__ = "gbfs_feeds"
    __table_args__ = (CheckConstraint("slug ~ '^[a-z0-9][a-z0-9_-]{0,62}$'", name="slug"),)

    slug: Mapped[str] = mapped_column(Text, primary_key=True)
    url: Mapped[str] = mapped_column(Text)
    headers: Mapped[dict] = mapped_column(JSONB, default=dict, server_default="{}")
    language: Mapped[str | None] = mapped_column(Text)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True, server_default="true")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True),
                                                 server_default=func.now())
    version: Mapped[str | None] = mapped_column(Text)
    system_name: Mapped[str | None] = mapped_column(Text)
    stale: Mapped[bool] = mapped_column(Boolean, default=False, server_default="false")
    stale_reason: Mapped[str | None] = mapped_column(Text)
    warnings: Mapped[list] = mapped_column(JSONB, default=list, server_default="[]")
    last_success_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class GbfsFeedFile(db.Model):
    __tablename__ = "gbfs_feed_files"

    feed: Mapped[str] = mapped_column(Text, ForeignKey("gbfs_feeds.slug", **FEED_FK),
                                      primary_key=True)
    name: Mapped[str] = mapped_column(Text, primary_key=True)
    url: Mapped[str] = mapped_column(Text)
    version: Mapped[str | None] = mapped_column(Text)
    etag: Mapped[str | None] = mapped_column(Text)
    last_modified: Mapped[str | None] = mapped_column(Text)
    last_updated: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    ttl: Mapped[int | None] = mapped_column(Integer)
    next_due_at: Mapped[datetime] = mapped_column(DateTime(timezone=True),
                                                  server_default=func.now())
    failures: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    error: Mapped[str | None] = mapped_column(Text)
    data: Mapped[dict | None] = mapped_column(JSONB)
    warnings: Mapped[list] = mapped_column(JSONB, default=list, server_default="[]")
    fetched_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class GbfsStation(db.Model):
    __tablename__ = "gbfs_stations"

    feed: Mapped[str] = mapped_column(Text, ForeignKey("gbfs_feeds.slug", **FEED_FK),
                                      primary_key=True)
    station_id: Mapped[str] = mapped_column(Text, primary_key=True)
    name: Mapped[str | None] = mapped_column(Text)
    capacity: Mapped[int | None] = mapped_column(Integer)
    num_bikes_available: Mapped[int | None] = mapped_column(Integer)
    num_docks_available: Mapped[int | None] = mapped_column(Integer)
    is_renting: Mapped[bool | None] = mapped_column(Boolean)
    is_returning: Mapped[bool | None] = mapped_column(Boolean)
    last_reported: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    geom = mapped_column(Geometry("POINT", srid=4326, spatial_index=False), nullable=False)
    geom_3857 = mapped_column(Geometry("POINT", srid=3857, spatial_index=True),
                              Computed("ST_Transform(geom, 3857)", persisted=True))


class GbfsStationHistory(db.Model):
    """One row each time a station's availability changed (not every poll)."""
    __tablename__ = "gbfs_station_history"
    __table_args__ = (Index("ix_gbfs_station_history_station_time", "feed", "station_id",
                            "recorded_at"),
                      Index("ix_gbfs_station_history_recorded_at", "recorded_at"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    feed: Mapped[str] = mapped_column(Text, ForeignKey("gbfs_feeds.slug", **FEED_FK))
    station_id: Mapped[str] = mapped_column(Text)
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    num_bikes_available: Mapped[int | None] = mapped_column(Integer)
    num_docks_available: Mapped[int | None] = mapped_column(Integer)
    is_renting: Mapped[bool | None] = mapped_column(Boolean)
    is_returning: Mapped[bool | None] = mapped_column(Boolean)


class GbfsVehicle(db.Model):
    __tablename__ = "gbfs_vehicles"

    feed: Mapped[str] = mapped_column(Text, ForeignKey("gbfs_feeds.slug", **FEED_FK),
                                      primary_key=True)
    vehicle_id: Mapped[str] = mapped_column(Text, primary_key=True)
    vehicle_type_id: Mapped[str | None] = mapped_column(Text)
    form_factor: Mapped[str | None] = mapped_column(Text)
    is_reserved: Mapped[bool] = mapped_column(Boolean)
    is_disabled: Mapped[bool] = mapped_column(Boolean)
    current_range_meters: Mapped[float | None] = mapped_column(Float)
    station_id: Mapped[str | None] = mapped_column(Text)
    geom = mapped_column(Geometry("POINT", srid=4326, spatial_index=False))
    geom_3857 = mapped_column(Geometry("POINT", srid=3857, spatial_index=True),
                              Computed("ST_Transform(geom, 3857)", persisted=True))


class GbfsZone(db.Model):
    __tablename__ = "gbfs_zones"

    feed: Mapped[str] = mapped_column(Text, ForeignKey("gbfs_feeds.slug", **FEED_FK),
                                      primary_key=True)
    zone_index: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str | None] = mapped_column(Text)
    rules: Mapped[list] = mapped_column(JSONB, default=list)
    geom = mapped_column(Geometry("MULTIPOLYGON", srid=4326, spatial_index=False),
                         nullable=False)
    geom_3857 = mapped_column(Geometry("MULTIPOLYGON", srid=3857, spatial_index=True),
                              Computed("ST_Transform(geom, 3857)", persisted=True))
