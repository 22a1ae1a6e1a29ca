"""The catalog of published datasets (matching_and_import_db.datasets): one row per
dataset, whose own table `datasets.<slug>` the dataset pipeline creates and swaps; these
declarations are for the migrations."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, DateTime, Float, Integer, String, Text
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db


class PublishedDataset(db.Model):
    __tablename__ = "published_datasets"

    slug: Mapped[str] = mapped_column(String(40), primary_key=True)
    pipeline: Mapped[str | None] = mapped_column(String(100))  # the pipeline that publishes it
    run_id: Mapped[int | None] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(200))
    layer_group: Mapped[str] = mapped_column(String(100))
    description: Mapped[str | None] = mapped_column(Text)
    colour: Mapped[str] = mapped_column(String(7))
    geometry_type: Mapped[str] = mapped_column(String(30))
    columns: Mapped[list] = mapped_column(JSONB)  # [[name, type], ...]
    key_column: Mapped[str | None] = mapped_column(String(60))
    source_srid: Mapped[int] = mapped_column(Integer)
    feature_count: Mapped[int] = mapped_column(BigInteger)
    bbox: Mapped[list | None] = mapped_column(ARRAY(Float))
    version: Mapped[int] = mapped_column(Integer)  # bumped by every publish
    published_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
