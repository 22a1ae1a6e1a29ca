"""Login through any OpenID Connect provider, found by its issuer URL."""

from __future__ import annotations

from authlib.integrations.flask_client import OAuth
from flask import Flask, g, session

from app.extensions import db
from app.models import User
from app.settings import Settings


def init_auth(app: Flask, settings: Settings) -> None:
    oauth = OAuth(app)
    if settings.oidc_issuer:
        oauth.register(
            name="oidc",
            client_id=settings.oidc_client_id,
            client_secret=settings.oidc_client_secret or None,
            server_metadata_url=settings.oidc_issuer.rstrip("/")
            + "/.well-known/openid-configuration",
            client_kwargs={"scope": settings.oidc_scopes, "code_challenge_method": "S256"},
        )
    app.extensions["portal_oauth"] = oauth

    @app.before_request
    def load_user() -> None:
        uid = session.get("uid")
        g.user = db.session.get(User, uid) if uid is not None else None
        if uid is not None and g.user is None:  # user deleted since the cookie was issued
            session.clear()

    @app.context_processor
    def inject_user() -> dict:
        return {"current_user": g.get("user"), "login_enabled": bool(settings.oidc_issuer)}
