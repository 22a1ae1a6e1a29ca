"""The Flask application factory. Nothing happens at import time."""

from __future__ import annotations

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from matching_and_import_db.schema import MIGRATIONS_DIR
from matching_and_import_db.settings import Settings


def create_app(overrides: dict | None = None, settings: Settings | None = None) -> Flask:
    settings = settings or Settings.from_env(overrides=overrides)

    from matching_and_import_db.settings.logging_setup import configure_logging
    configure_logging(settings, role="web")

    app = Flask(__name__)
    app.config.update(
        PORTAL=settings,
        SECRET_KEY=settings.secret_key,
        SQLALCHEMY_DATABASE_URI=settings.sqlalchemy_url,
        # the connection budget of this process (README "A connection budget"); works
        # through PgBouncer in transaction pooling too: nothing relies on session state
        SQLALCHEMY_ENGINE_OPTIONS={"pool_pre_ping": True, "pool_size": settings.db_pool_size,
                                   "max_overflow": settings.db_max_overflow},
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.public_url.startswith("https://"),
        PREFERRED_URL_SCHEME="https" if settings.public_url.startswith("https://") else "http",
        RATELIMIT_STORAGE_URI=settings.redis_url,
        # X-RateLimit-* on every response would cost two more Redis round trips per request
        # (a cached tile needs one); refusals still say Retry-After (app/errors.py)
        RATELIMIT_HEADERS_ENABLED=False,
        RATELIMIT_KEY_PREFIX="ratelimit",
        # Redis gone: count limits in this process's memory (logged once, and Redis is
        # tried again with backoff) rather than refuse every request; any other limiter
        # error lets the request through and is logged
        RATELIMIT_IN_MEMORY_FALLBACK_ENABLED=True,
        RATELIMIT_SWALLOW_ERRORS=True,
        RATELIMIT_STORAGE_OPTIONS={"socket_timeout": 2, "socket_connect_timeout": 2},
        WTF_CSRF_TIME_LIMIT=None,  # the token lives as long as the session
        MAX_CONTENT_LENGTH=64 * 1024 * 1024,
    )
    if settings.trusted_proxies:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=settings.trusted_proxies,
                                x_proto=settings.trusted_proxies,
                                x_host=settings.trusted_proxies,
                                x_prefix=settings.trusted_proxies)

    from app import models  # noqa: F401  (registers the tables with the metadata)
    from app.extensions import csrf, db, limiter, migrate
    from app.redis_client import init_redis

    db.init_app(app)
    migrate.init_app(app, db, directory=str(MIGRATIONS_DIR))
    csrf.init_app(app)
    limiter.init_app(app)
    init_redis(app, settings.redis_url)

    from app.auth import init_auth
    from app.errors import register_error_handlers
    from app.params import init_input_checks
    from app.security_headers import init_security_headers
    init_input_checks(app)  # before the user is loaded: a NUL in a header never reaches SQL
    init_auth(app, settings)
    register_error_handlers(app)
    init_security_headers(app, settings)

    from app.account.views import bp as account_bp
    from app.admin.map_views import bp as map_admin_bp
    from app.admin.views import bp as admin_bp
    from app.auth.views import bp as auth_bp
    from app.datasets.views import bp as datasets_bp
    from app.health.views import bp as health_bp
    from app.live import live_blueprint
    from app.maps.views import bp as maps_bp
    from app.metrics.http import init_http_metrics
    from app.metrics.views import bp as metrics_bp
    from app.monitoring.views import bp as monitoring_bp
    from app.ogc.views import bp as ogc_bp
    from app.pipelines.views import bp as pipelines_bp
    from app.rides.api import bp as rides_api_bp
    from app.rides.views import bp as rides_bp
    from app.stops.api import bp as stops_api_bp
    from app.stops.views import bp as stops_bp
    from app.workspaces.admin import bp as workspaces_admin_bp
    from app.workspaces.admin import pages as workspaces_admin_pages
    from app.workspaces.binding import init_workspace_binding
    init_workspace_binding()
    _connect_dataset_layers()
    from app.workspaces.api import bp as workspaces_api_bp
    from app.workspaces.ogc import bp as workspace_ogc_bp
    from app.workspaces.pages import bp as workspace_pages_bp
    from app.workspaces.public import bp as workspace_maps_bp
    for bp in (auth_bp, health_bp, maps_bp, pipelines_bp, rides_bp, rides_api_bp,
               account_bp, stops_bp, stops_api_bp, ogc_bp, admin_bp, workspaces_api_bp,
               workspace_maps_bp, workspaces_admin_bp, workspace_ogc_bp, workspace_pages_bp,
               workspaces_admin_pages, datasets_bp, metrics_bp,
               live_blueprint(), map_admin_bp, monitoring_bp):
        app.register_blueprint(bp)
    from app.rides.legacy import init_legacy_urls
    init_legacy_urls(app)  # the URLs from before rides had one name keep working

    init_http_metrics(app)
    from app.request_ids import init_request_ids
    init_request_ids(app)

    from app.monitoring.usage import init_plausible, init_usage_counting
    init_usage_counting(app, settings.analytics_flush_seconds)
    init_plausible(app, settings.plausible_script_url, settings.plausible_domain)

    from app.cli import register_cli
    register_cli(app)

    if settings.check_schema:
        from matching_and_import_db.schema import require_current_schema
        with app.app_context():
            conn = db.engine.raw_connection()
            try:
                require_current_schema(conn)
            finally:
                conn.close()
    return app


def _connect_dataset_layers() -> None:
    """Published datasets join the catalog as layers, read from the database on use; in
    the web app that is the request's pooled connection (none outside a request)."""
    from flask import has_app_context

    from app.pipelines.service import raw_connection
    from matching_and_import_db.layers.datasets import DATASETS
    DATASETS.connect = lambda: raw_connection() if has_app_context() else None
