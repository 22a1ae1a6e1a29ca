from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from app.extensions import db
from app.models import User


def upsert_user(issuer: str, claims: dict[str, Any], role: str) -> User:
    """Create the user on first login; refresh profile and role from the claims after."""
    user = db.session.scalar(
        select(User).where(User.issuer == issuer, User.subject == claims["sub"]))
    if user is None:
        user = User(issuer=issuer, subject=claims["sub"])
        db.session.add(user)
    user.email = claims.get("email")
    user.display_name = (claims.get("name") or claims.get("preferred_username")
                         or claims.get("email") or claims["sub"])
    user.role = role
    user.last_login_at = datetime.now(UTC)
    db.session.commit()
    return user
