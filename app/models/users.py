from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, DateTime, Integer, String, Text, UniqueConstraint, func
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db

ROLES = ("user", "operator", "admin")  # ascending privilege


class User(db.Model):
    __tablename__ = "users"
    __table_args__ = (UniqueConstraint("issuer", "subject"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    issuer: Mapped[str] = mapped_column(String(500))
    subject: Mapped[str] = mapped_column(String(255))
    email: Mapped[str | None] = mapped_column(String(320))
    display_name: Mapped[str | None] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(20), default="user")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # the device API key, as SHA-256 of the key: the key itself is shown once, never stored
    api_key_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    api_key_created_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    rides_public_by_default: Mapped[bool] = mapped_column(Boolean, default=False,
                                                           server_default="false")
    # Sessions are signed cookies carrying this number; logout and "end sessions" bump it,
    # so every copy of an older cookie stops working at once (checked on every request)
    session_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # when the role was last confirmed at the provider (refresh token grant + userinfo)
    role_checked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # the provider's refresh token of the latest login: server-side only, never in a cookie
    oidc_refresh_token: Mapped[str | None] = mapped_column(Text)

    def has_role(self, role: str) -> bool:
        return ROLES.index(self.role) >= ROLES.index(role)
