"""Daily usage counts (matching_and_import_db/monitoring/usage.py): no personal data."""

from __future__ import annotations

from datetime import date

from sqlalchemy import BigInteger, CheckConstraint, Date, String
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db


class UsageDaily(db.Model):
    """Requests per UTC day, kind of route (page, tile, api) and URL rule."""

    __tablename__ = "usage_daily"
    __table_args__ = (CheckConstraint("kind IN ('page', 'tile', 'api')", "kind"),)

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    kind: Mapped[str] = mapped_column(String(10), primary_key=True)
    route: Mapped[str] = mapped_column(String(300), primary_key=True)
    count: Mapped[int] = mapped_column(BigInteger, default=0)
