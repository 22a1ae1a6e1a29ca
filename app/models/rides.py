"""Rides: uploaded rides, what processing makes of them, and the road statistics.

The scheduler writes rides' processed columns, events, usage and road statistics with
set-based SQL (matching_and_import_db.rides.store); these declarations are the schema.
"""

from __future__ import annotations

from datetime import datetime

from geoalchemy2 import Geometry
from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Computed,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, deferred, mapped_column

from app.extensions import db

RIDE_STATUSES = ("queued", "processing", "complete", "error")


class Ride(db.Model):
    """One uploaded ride. The raw file lives in the data directory, gzip, named by the
    SHA-256 of its decompressed content; the same content uploaded twice by one user is
    one ride."""

    __tablename__ = "rides"
    __table_args__ = (
        UniqueConstraint("user_id", "raw_sha256"),
        CheckConstraint("status IN ('queued', 'processing', 'complete', 'error')", "status"),
        # the queue: claimed in upload order
        Index("ix_rides_queue", "status", "uploaded_at"),
        Index("ix_rides_user_id_recorded_at", "user_id", "recorded_at"),
        Index("ix_rides_public_recorded_at", "recorded_at", postgresql_where=text("public")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    title: Mapped[str | None] = mapped_column(String(200))
    public: Mapped[bool] = mapped_column(Boolean, default=False)
    original_filename: Mapped[str | None] = mapped_column(String(255))
    raw_sha256: Mapped[str] = mapped_column(String(64))
    raw_size: Mapped[int] = mapped_column(Integer)
    uploaded_via: Mapped[str] = mapped_column(String(20))  # browser | api
    uploaded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True),
                                                  server_default=func.now())

    status: Mapped[str] = mapped_column(String(20), default="queued")
    status_message: Mapped[str | None] = mapped_column(Text)
    worker: Mapped[str | None] = mapped_column(String(200))
    lease_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    processed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    processing_seconds: Mapped[float | None] = mapped_column(Float)

    # what processing found; null until the first successful run
    file_format: Mapped[str | None] = mapped_column(String(20))
    device_id: Mapped[str | None] = mapped_column(String(100))
    firmware: Mapped[str | None] = mapped_column(String(100))
    recorded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    recorded_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    duration_s: Mapped[float | None] = mapped_column(Float)
    length_m: Mapped[float | None] = mapped_column(Float)
    points_total: Mapped[int | None] = mapped_column(Integer)
    points_valid: Mapped[int | None] = mapped_column(Integer)
    points_private: Mapped[int | None] = mapped_column(Integer)
    points_matched: Mapped[int | None] = mapped_column(Integer)
    events_count: Mapped[int | None] = mapped_column(Integer)
    # the ride as recorded (invalid points and privacy zones removed) and as snapped
    geom_raw = deferred(mapped_column(Geometry("MULTILINESTRING", srid=4326,
                                               spatial_index=False)))
    geom = deferred(mapped_column(Geometry("MULTILINESTRING", srid=4326, spatial_index=True)))
    # time, speed and distances per kept point, for the chart: orjson arrays, gzip
    series = deferred(mapped_column(LargeBinary))


class RideEvent(db.Model):
    """A confirmed overtaking event: the distance the rider measured, where and when."""

    __tablename__ = "ride_events"
    __table_args__ = (
        Index("ix_ride_events_way", "way_id", "direction"),
        Index("ix_ride_events_time", "time"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    ride_id: Mapped[int] = mapped_column(ForeignKey("rides.id", ondelete="CASCADE"),
                                          index=True)
    time: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    distance_left: Mapped[float | None] = mapped_column(Float)
    distance_right: Mapped[float | None] = mapped_column(Float)
    speed: Mapped[float | None] = mapped_column(Float)
    way_id: Mapped[int | None] = mapped_column(BigInteger)
    direction: Mapped[int] = mapped_column(SmallInteger, default=0)
    legal_minimum: Mapped[float] = mapped_column(Float)
    geom = mapped_column(Geometry("POINT", srid=4326, spatial_index=False), nullable=False)
    geom_3857 = mapped_column(
        Geometry("POINT", srid=3857, spatial_index=True),
        Computed("ST_Transform(geom, 3857)", persisted=True),
    )


class RoadUsage(db.Model):
    """Each pass of a way in a direction by a ride."""

    __tablename__ = "road_usage"
    __table_args__ = (Index("ix_road_usage_way", "way_id", "direction"),)

    ride_id: Mapped[int] = mapped_column(ForeignKey("rides.id", ondelete="CASCADE"),
                                          primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    way_id: Mapped[int] = mapped_column(BigInteger)
    direction: Mapped[int] = mapped_column(SmallInteger)
    time: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    length_m: Mapped[float] = mapped_column(Float)


class RideSnaps(db.Model):
    """Where each kept fix of a ride was snapped, as arrays in fix order (index i is the
    ride's i-th kept fix): the way (-1 unmatched), the direction along its digitised order
    (+1, -1, 0 unknown), the offset from its first vertex and the fix's distance to the
    snap, in metres, and the snapped position. One row per ride, so anyone can audit it."""

    __tablename__ = "ride_snaps"

    ride_id: Mapped[int] = mapped_column(ForeignKey("rides.id", ondelete="CASCADE"),
                                          primary_key=True)
    way_id: Mapped[list[int]] = mapped_column(ARRAY(BigInteger))
    direction: Mapped[list[int]] = mapped_column(ARRAY(SmallInteger))
    offset_m: Mapped[list[float]] = mapped_column(ARRAY(Float))
    distance_m: Mapped[list[float]] = mapped_column(ARRAY(Float))
    lon: Mapped[list[float]] = mapped_column(ARRAY(Float))
    lat: Mapped[list[float]] = mapped_column(ARRAY(Float))


class RoadStats(db.Model):
    """Per way and direction, over public rides: kept up to date by every processing,
    reprocessing, visibility change and delete, never aggregated per tile request."""

    __tablename__ = "road_stats"

    way_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    direction: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    passes: Mapped[int] = mapped_column(Integer, default=0)
    events: Mapped[int] = mapped_column(Integer, default=0)
    distance_mean: Mapped[float | None] = mapped_column(Float)
    distance_median: Mapped[float | None] = mapped_column(Float)
    distance_min: Mapped[float | None] = mapped_column(Float)
    distance_max: Mapped[float | None] = mapped_column(Float)
    below_minimum: Mapped[int] = mapped_column(Integer, default=0)
    legal_minimum: Mapped[float | None] = mapped_column(Float)
    # events per 25 cm bucket from 0 to 3 m (the last bucket holds everything beyond)
    histogram: Mapped[list] = mapped_column(JSONB, default=list)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True),
                                                 server_default=func.now())


class PrivacyZone(db.Model):
    """A circle the owner draws: nothing recorded inside it leaves the server."""

    __tablename__ = "privacy_zones"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"),
                                         index=True)
    name: Mapped[str | None] = mapped_column(String(100))
    center = mapped_column(Geometry("POINT", srid=4326, spatial_index=False), nullable=False)
    radius_m: Mapped[float] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True),
                                                 server_default=func.now())
