"""Login through any OpenID Connect provider, found by its issuer URL."""

from __future__ import annotations

from authlib.integrations.flask_client import OAuth
from flask import Flask, g

from app.auth.sessions import session_user
from matching_and_import_db.settings import Settings


def init_auth(app: Flask, settings: Settings) -> None:
    oauth = OAuth(app)
    if settings.oidc_issuer:
        oauth.register(
            name="oidc",
            client_id=settings.oidc_client_id,
            client_secret=settings.oidc_client_secret or None,
            server_metadata_url=settings.oidc_issuer.rstrip("/")
            + "/.well-known/openid-configuration",
            # a provider that hangs must not hold a request (role checks run in requests)
            client_kwargs={"scope": settings.oidc_scopes, "code_challenge_method": "S256",
                           "default_timeout": 10},
        )
    app.extensions["portal_oauth"] = oauth

    @app.before_request
    def load_user() -> None:
        g.user = session_user()

    @app.context_processor
    def inject_user() -> dict:
        return {"current_user": g.get("user"), "login_enabled": bool(settings.oidc_issuer)}
