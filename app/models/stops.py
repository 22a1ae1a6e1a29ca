"""Public transport stops: the published official registry, its matches with OSM stops and
the problems found (all three replaced by every stops import, in one transaction), what each
import published, and people's decisions, which no import ever touches.

The pipeline writes the published tables with COPY and set-based SQL
(matching_and_import_db.stops.pipeline); these declarations are the schema.
"""

from __future__ import annotations

from datetime import date, datetime

from geoalchemy2 import Geometry
from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Computed,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db

# active: applied; needs_review: the evidence changed (or a stop is gone), so it is not
# applied until someone looks again; superseded/withdrawn: history
DECISION_STATUSES = ("active", "needs_review", "superseded", "withdrawn")


class OfficialStopRecord(db.Model):
    """One stop of the official registry as the last stops import published it."""

    __tablename__ = "official_stops"
    __table_args__ = (CheckConstraint("level IN ('place', 'platform')", "level"),)

    stop_id: Mapped[str] = mapped_column(Text, primary_key=True)  # sloid, stop_id, ATCOCode…
    source: Mapped[str] = mapped_column(String(20))  # atlas, gtfs, naptan, csv, geojson
    name: Mapped[str | None] = mapped_column(Text)
    platform_code: Mapped[str | None] = mapped_column(Text)
    operator: Mapped[str | None] = mapped_column(Text)
    valid_from: Mapped[date | None] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)
    sloid: Mapped[str | None] = mapped_column(Text)
    ifopt: Mapped[str | None] = mapped_column(Text)
    uic_ref: Mapped[str | None] = mapped_column(Text)
    didok: Mapped[str | None] = mapped_column(Text)
    gtfs_stop_id: Mapped[str | None] = mapped_column(Text)
    atco_code: Mapped[str | None] = mapped_column(Text)
    parent_id: Mapped[str | None] = mapped_column(Text)  # a platform's stop place
    # "place" (a stop place, matched to a group of OSM objects) or "platform" (one object)
    level: Mapped[str] = mapped_column(String(10), server_default="platform")
    mode: Mapped[str | None] = mapped_column(String(20))  # stops.modes.MODES; None: unknown
    extra: Mapped[dict] = mapped_column(JSONB, default=dict)
    geom = mapped_column(Geometry("POINT", srid=4326, spatial_index=True), nullable=False)
    geom_3857 = mapped_column(
        Geometry("POINT", srid=3857, spatial_index=True),
        Computed("ST_Transform(geom, 3857)", persisted=True),
    )


class StopMatch(db.Model):
    """An official stop paired with an OSM stop, with how and why (method, evidence)."""

    __tablename__ = "stop_matches"
    __table_args__ = (Index("ix_stop_matches_osm_key", "osm_key"),)

    official_id: Mapped[str] = mapped_column(Text, primary_key=True)
    osm_key: Mapped[str] = mapped_column(String(30), primary_key=True)  # n123, w45
    method: Mapped[str] = mapped_column(String(50))
    stage: Mapped[str] = mapped_column(String(30))
    score: Mapped[float] = mapped_column(Float)
    distance_m: Mapped[float] = mapped_column(Float)
    official_name: Mapped[str | None] = mapped_column(Text)
    osm_name: Mapped[str | None] = mapped_column(Text)
    evidence: Mapped[dict] = mapped_column(JSONB, default=dict)
    profile_version: Mapped[str] = mapped_column(String(50))
    # from the official stop to the OSM stop
    geom = mapped_column(Geometry("LINESTRING", srid=4326, spatial_index=True), nullable=False)


class StopProblem(db.Model):
    """Something for a person to look at; resolved when a decision covers it."""

    __tablename__ = "stop_problems"
    __table_args__ = (
        Index("ix_stop_problems_type_priority", "type", "priority"),
        Index("ix_stop_problems_official_id", "official_id"),
        Index("ix_stop_problems_osm_key", "osm_key"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    type: Mapped[str] = mapped_column(String(30))
    priority: Mapped[int] = mapped_column(SmallInteger)
    official_id: Mapped[str | None] = mapped_column(Text)
    osm_key: Mapped[str | None] = mapped_column(String(30))
    area: Mapped[str] = mapped_column(String(30))  # grid cell, for statistics and filters
    evidence: Mapped[dict] = mapped_column(JSONB, default=dict)
    decision_id: Mapped[int | None] = mapped_column(
        ForeignKey("stop_decisions.id", ondelete="SET NULL"), index=True)
    geom = mapped_column(Geometry("POINT", srid=4326, spatial_index=True))
    geom_3857 = mapped_column(
        Geometry("POINT", srid=3857, spatial_index=True),
        Computed("ST_Transform(geom, 3857)", persisted=True),
    )


class StopDecision(db.Model):
    """What a person decided about a pair or a stop, keyed by the stable ids of both sides
    and a hash of the evidence they saw. Imports never write here except `status`."""

    __tablename__ = "stop_decisions"
    __table_args__ = (
        CheckConstraint("action IN ('confirm', 'reject', 'manual', 'missing_in_osm', "
                        "'missing_in_registry', 'attribute', 'note')", "action"),
        CheckConstraint("status IN ('active', 'needs_review', 'superseded', 'withdrawn')",
                        "status"),
        CheckConstraint("side IS NULL OR side IN ('official', 'osm')", "side"),
        # which sides each action names
        CheckConstraint(
            "CASE action WHEN 'missing_in_osm' THEN official_id IS NOT NULL AND osm_key IS NULL"
            " WHEN 'missing_in_registry' THEN official_id IS NULL AND osm_key IS NOT NULL"
            " WHEN 'note' THEN official_id IS NOT NULL OR osm_key IS NOT NULL"
            " ELSE official_id IS NOT NULL AND osm_key IS NOT NULL END", "sides"),
        CheckConstraint("(action = 'attribute') = (attribute IS NOT NULL AND side IS NOT NULL)",
                        "attribute"),
        Index("ix_stop_decisions_official_id", "official_id"),
        Index("ix_stop_decisions_osm_key", "osm_key"),
        Index("ix_stop_decisions_status", "status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    official_id: Mapped[str | None] = mapped_column(Text)
    osm_key: Mapped[str | None] = mapped_column(String(30))
    action: Mapped[str] = mapped_column(String(30))
    attribute: Mapped[str | None] = mapped_column(String(30))  # name, platform_code, …
    side: Mapped[str | None] = mapped_column(String(10))  # which side is right
    note: Mapped[str] = mapped_column(Text, default="", server_default="")
    evidence: Mapped[dict] = mapped_column(JSONB, default=dict)  # what the reviewer saw
    evidence_hash: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(20), default="active")
    review_reason: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True),
                                                 server_default=func.now())
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True),
                                                 server_default=func.now())


class StopPublication(db.Model):
    """One published stops import: where from, the matching profile (with its version) and
    the counts. The newest row describes what the stop tables hold."""

    __tablename__ = "stop_publications"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int | None] = mapped_column(
        ForeignKey("pipeline_runs.id", ondelete="SET NULL"))
    pipeline: Mapped[str] = mapped_column(String(100))
    source: Mapped[str] = mapped_column(Text)
    format: Mapped[str] = mapped_column(String(20))
    profile_version: Mapped[str] = mapped_column(String(50))
    profile: Mapped[dict] = mapped_column(JSONB, default=dict)
    counts: Mapped[dict] = mapped_column(JSONB, default=dict)
    published_at: Mapped[datetime] = mapped_column(DateTime(timezone=True),
                                                   server_default=func.now())
