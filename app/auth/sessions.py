"""Revocable sessions over signed cookies.

The cookie carries the user id and the user's session version. Every request compares the
version with the one in PostgreSQL: logout and an admin's "end sessions" bump it, so every
copy of an older cookie stops working at once, in every app process, and nothing but the
database is shared between them.

The role is confirmed at the provider every PORTAL_SESSION_ROLE_TTL_SECONDS: the refresh
token of the latest login (kept in PostgreSQL, never in the cookie) is exchanged for a new
access token and the role read from userinfo. A provider that refuses the refresh token (the
user was deleted, the provider session ended or expired) ends the user's sessions; a
provider that cannot be reached keeps the role for a short while and is asked again.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import requests
from authlib.integrations.base_client.errors import OAuthError
from flask import current_app, session
from sqlalchemy import select, update

from app.auth.roles import role_from_claims
from app.extensions import db
from app.models import User

log = logging.getLogger(__name__)

# after a failed attempt to reach the provider, ask again this much later
PROVIDER_RETRY_SECONDS = 30


def start_session(user: User, id_token: str | None) -> None:
    session.clear()  # a fresh session on login: nothing carried over from before
    session["uid"] = user.id
    session["sv"] = user.session_version
    session["id_token"] = id_token


def end_sessions(user_id: int) -> None:
    """End every session of the user, wherever its cookie was copied (caller commits)."""
    db.session.execute(
        update(User).where(User.id == user_id)
        .values(session_version=User.session_version + 1, oidc_refresh_token=None,
                role_checked_at=None)
        .execution_options(synchronize_session=False))


def session_user() -> User | None:
    """The user of this request's session cookie, or None (cookie cleared) when the
    session was ended, the user deleted, or the provider no longer vouches for them."""
    uid = session.get("uid")
    if uid is None:
        return None
    user = db.session.get(User, uid)
    if user is None or session.get("sv") != user.session_version:
        session.clear()
        return None
    if _role_is_stale(user) and not _confirm_role(user):
        session.clear()
        return None
    return user


def _role_is_stale(user: User) -> bool:
    ttl = current_app.config["PORTAL"].session_role_ttl_seconds
    checked = user.role_checked_at
    return checked is None or datetime.now(UTC) - checked > timedelta(seconds=ttl)


def _confirm_role(user: User) -> bool:
    """Ask the provider for the user's current role; False when the session must end."""
    # one process at a time per user: the provider may rotate the refresh token, and two
    # requests spending the same one would log the user out
    locked = db.session.scalar(
        select(User).where(User.id == user.id).with_for_update(skip_locked=True)
        .execution_options(populate_existing=True))
    if locked is None:  # another request is asking right now; its answer will do
        return True
    if not _role_is_stale(locked):
        db.session.commit()
        return True
    client = current_app.extensions["portal_oauth"].create_client("oidc")
    if client is None or not locked.oidc_refresh_token:
        # nothing to ask with (login not configured, or the provider issued no refresh
        # token): the session lasts one role period, then a new login (silent at an SSO)
        log.info("session of user %s ends: the role cannot be confirmed without a "
                 "refresh token", locked.id)
        end_sessions(locked.id)
        db.session.commit()
        return False
    try:
        token = client.fetch_access_token(grant_type="refresh_token",
                                          refresh_token=locked.oidc_refresh_token)
        claims = client.userinfo(token=token)
    except OAuthError as exc:
        log.info("provider refused to refresh user %s (%s): ending their sessions",
                 locked.id, exc.error)
        end_sessions(locked.id)
        db.session.commit()
        return False
    except (requests.RequestException, ValueError) as exc:
        log.warning("provider unreachable while confirming the role of user %s: %s; "
                    "keeping it, asking again in %ss", locked.id, exc, PROVIDER_RETRY_SECONDS)
        ttl = current_app.config["PORTAL"].session_role_ttl_seconds
        locked.role_checked_at = (datetime.now(UTC) - timedelta(seconds=ttl)
                                  + timedelta(seconds=PROVIDER_RETRY_SECONDS))
        db.session.commit()
        return True
    # a userinfo without the claim says nothing about the role (configure the provider to
    # put it there, as Keycloak's role mappers can); only a claim listing roles changes it
    role = role_from_claims(claims, current_app.config["PORTAL"].oidc_roles_claim) \
        or locked.role
    if role != locked.role:
        log.info("role of user %s changed at the provider: %s -> %s", locked.id,
                 locked.role, role)
    locked.role = role
    locked.oidc_refresh_token = token.get("refresh_token") or locked.oidc_refresh_token
    locked.role_checked_at = datetime.now(UTC)
    db.session.commit()
    return True
