from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from app.extensions import db
from app.models import User


def upsert_user(issuer: str, claims: dict[str, Any], role: str,
                refresh_token: str | None = None) -> User:
    """Create the user on first login; refresh profile and role from the claims after.
    The refresh token (if the provider gave one) is what later confirms the role."""
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
    user.role_checked_at = user.last_login_at
    user.oidc_refresh_token = refresh_token
    db.session.commit()
    return user
