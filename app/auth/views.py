from __future__ import annotations

from urllib.parse import urlencode, urlparse

from authlib.integrations.base_client.errors import OAuthError
from flask import Blueprint, current_app, g, jsonify, redirect, request, session, url_for

from app.auth.access import EVERYONE, USERS, access
from app.auth.decorators import login_required
from app.auth.roles import role_from_claims
from app.auth.service import upsert_user
from app.auth.sessions import end_sessions, start_session
from app.extensions import db, limiter
from matching_and_import_db.errors import InputError, NotFound

bp = Blueprint("auth", __name__)


def _settings():
    return current_app.config["PORTAL"]


def _client():
    client = current_app.extensions["portal_oauth"].create_client("oidc")
    if client is None:
        raise NotFound("login is not configured (PORTAL_OIDC_ISSUER is not set)")
    return client


def _login_limit() -> str:
    return _settings().ratelimit_login


# logins begun and not finished whose state the cookie keeps (a few tabs at once)
MAX_PENDING_LOGINS = 3


def _forget_old_login_states() -> None:
    """authlib keeps each begun login's state in the session for an hour; every visit to
    /login would grow the cookie until browsers drop it (and the user with it)."""
    states = sorted((k for k in session if k.startswith("_state_oidc_")),
                    key=lambda k: (session[k] or {}).get("exp") or 0)
    for key in states[:max(0, len(states) - (MAX_PENDING_LOGINS - 1))]:
        session.pop(key)


def _safe_next(target: str | None) -> str:
    # only local paths, so the login cannot be turned into an open redirect
    if target and target.startswith("/") and not target.startswith("//") \
            and not urlparse(target).netloc:
        return target
    return "/"


@bp.get("/login")
@access(EVERYONE)
@limiter.limit(_login_limit)
def login():
    session["next"] = _safe_next(request.args.get("next"))
    _forget_old_login_states()
    redirect_uri = _settings().public_url.rstrip("/") + url_for("auth.callback")
    return _client().authorize_redirect(redirect_uri)


@bp.get("/auth/callback")
@access(EVERYONE)
@limiter.limit(_login_limit)
def callback():
    if "error" in request.args:
        reason = request.args.get("error_description") or request.args["error"]
        raise InputError(f"login failed at the provider: {reason}")
    client = _client()
    try:
        token = client.authorize_access_token()
    except OAuthError as exc:  # state mismatch, replayed code, bad token signature...
        raise InputError(f"login failed: {exc.description or exc.error}; "
                         "start again from the login link") from None
    claims = dict(token.get("userinfo") or {})
    settings = _settings()
    role = role_from_claims(claims, settings.oidc_roles_claim)
    if role is None:  # the claim may only be in the userinfo response (Keycloak's default)
        claims.update(client.userinfo(token=token))
        role = role_from_claims(claims, settings.oidc_roles_claim) or "user"
    issuer = client.load_server_metadata()["issuer"]
    user = upsert_user(issuer, claims, role, token.get("refresh_token"))
    next_url = session.pop("next", "/")
    start_session(user, token.get("id_token"))
    return redirect(_safe_next(next_url))


@bp.post("/logout")
@access(EVERYONE)
def logout():
    id_token = session.get("id_token")
    if g.user is not None:  # every copy of this cookie (and the user's other sessions) ends
        end_sessions(g.user.id)
        db.session.commit()
    session.clear()
    home = _settings().public_url.rstrip("/") + "/"
    client = current_app.extensions["portal_oauth"].create_client("oidc")
    end_session = client and client.load_server_metadata().get("end_session_endpoint")
    if end_session:  # RP-initiated logout: end the provider's session too
        params = {"post_logout_redirect_uri": home, "client_id": _settings().oidc_client_id}
        if id_token:
            params["id_token_hint"] = id_token
        return redirect(f"{end_session}?{urlencode(params)}")
    return redirect(home)


@bp.get("/api/me")
@access(USERS, anonymous=401)
@login_required
def me():
    user = g.user
    return jsonify({"id": user.id, "subject": user.subject, "email": user.email,
                    "name": user.display_name, "role": user.role})
