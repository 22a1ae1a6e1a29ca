from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    String,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db

RUN_STATUSES = ("queued", "running", "succeeded", "failed")


class Pipeline(db.Model):
    """A configured import: a kind (which phases run) plus its configuration and schedule."""

    __tablename__ = "pipelines"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    kind: Mapped[str] = mapped_column(String(50))
    config: Mapped[dict] = mapped_column(JSONB, default=dict)
    # crontab ("0 3 * * *") or "@every 30s|10m|2h"; null means run on demand only
    schedule: Mapped[str | None] = mapped_column(String(100))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class PipelineRun(db.Model):
    """One run of a pipeline: its history record, claimed by a scheduler with a lease."""

    __tablename__ = "pipeline_runs"
    __table_args__ = (
        # A schedule slot produces at most one run, however many schedulers see it.
        Index("uq_pipeline_runs_schedule_slot", "pipeline_id", "scheduled_for", unique=True,
              postgresql_where=text("trigger = 'schedule'")),
        Index("ix_pipeline_runs_status", "status"),
        Index("ix_pipeline_runs_pipeline_id_created_at", "pipeline_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    pipeline_id: Mapped[int] = mapped_column(ForeignKey("pipelines.id", ondelete="CASCADE"))
    trigger: Mapped[str] = mapped_column(String(20))  # schedule | manual
    scheduled_for: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    requested_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    status: Mapped[str] = mapped_column(String(20), default="queued")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    lease_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    worker: Mapped[str | None] = mapped_column(String(200))
    phase: Mapped[str | None] = mapped_column(String(50))
    counts: Mapped[dict] = mapped_column(JSONB, default=dict)
    phase_seconds: Mapped[dict] = mapped_column(JSONB, default=dict)
    log: Mapped[list] = mapped_column(JSONB, default=list)
    message: Mapped[str | None] = mapped_column(Text)
