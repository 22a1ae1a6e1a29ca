"""The portal's settings: every PORTAL_* environment variable, declared here once as a field
with its type, default and help, and read and validated once per process by app, scheduler
and migrator alike.

The README's Settings table is checked against these fields by a test, so the two cannot
drift apart. A new variable is one more field: `name: type = setting(default, "help")`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from matching_and_import_db.rides.model import RideLimits
from matching_and_import_db.settings.declare import (
    REQUIRED,
    SettingsError,
    read_values,
    setting,
    variables_of,
)


@dataclass(frozen=True)
class Settings:
    secret_key: str = setting(REQUIRED, "Signs session cookies and CSRF tokens.", secret=True)
    database_url: str = setting(
        "postgresql://postgres@127.0.0.1:5432/portal",
        "PostgreSQL with PostGIS (SQLAlchemy URL).")
    redis_url: str = setting(
        "redis://127.0.0.1:6379/0",
        "Redis for locks, rate limits, progress and live state.")
    public_url: str = setting(
        "http://127.0.0.1:5001",
        "Public base URL: absolute links and OIDC redirect URIs (never the request's Host); "
        "https:// also turns on HSTS and secure cookies.")
    trusted_proxies: int = setting(
        0,
        "How many reverse proxies in front of the app set X-Forwarded-*.")
    oidc_issuer: str = setting(
        "",
        "OpenID Connect issuer URL (discovery at /.well-known/openid-configuration).")
    oidc_client_id: str = setting("portal", "OIDC client id.")
    oidc_client_secret: str = setting("", "OIDC client secret.", secret=True)
    oidc_scopes: str = setting("openid email profile", "Scopes asked for at login.")
    oidc_roles_claim: str = setting(
        "realm_access.roles",
        "Dotted path of the claim that lists the user's roles (Keycloak default).")
    session_role_ttl_seconds: int = setting(
        300,
        "How often a logged-in user's role is confirmed at the provider (refresh token grant + "
        "userinfo); a user the provider no longer knows is logged out.")
    db_pool_size: int = setting(
        5,
        "Database connections each web worker process keeps open (SQLAlchemy pool_size).")
    db_max_overflow: int = setting(
        2,
        "Extra connections a web worker may open at busy moments (SQLAlchemy max_overflow).")
    scheduler_db_connections: int = setting(
        6,
        "Most database connections one scheduler process holds at once (its jobs wait for a free "
        "one); at least 4: a pipeline run needs 3 beside the ride queue's 1.")
    ratelimit_default: str = setting("600 per minute", "Limit for every endpoint.")
    ratelimit_login: str = setting("20 per minute", "Limit for login and its callback.")
    ratelimit_tiles: str = setting("3000 per minute", "Limit for map tiles.")
    ratelimit_upload: str = setting(
        "120 per hour",
        "Limit for ride uploads (browser and device API), per client address.")
    upload_max_bytes: int = setting(
        32 * 1024 * 1024,
        "Largest ride file accepted, in bytes (after decompression for gzip files).")
    ride_max_points: int = setting(
        100_000,
        "Most measurements (CSV rows, GPX points) of one ride; a longer file is refused with 422 "
        "while it is read.")
    ride_max_hours: float = setting(
        24.0,
        "Longest ride, in hours from its first to its last timestamp; a longer one is refused "
        "with 422.")
    ride_lease_seconds: int = setting(
        30,
        "How long a claimed ride's lease lasts without renewal (renewed every third of it while "
        "the ride is processed); the limit for a worker cut off from Redis.")
    overtake_minimum_urban_m: float = setting(
        1.5,
        "Legal minimum overtaking distance in town (zone:traffic urban, or maxspeed up to 50), "
        "metres.")
    overtake_minimum_rural_m: float = setting(
        2.0,
        "Legal minimum overtaking distance outside towns, metres.")
    data_dir: str = setting("var/data", "Where raw uploads and downloaded sources are kept.")
    import_dir: str = setting(
        "var/import",
        "The only directories (separated by `:`) a pipeline may read a local source file from; a "
        "relative source is taken relative to the first.")
    source_allowed_hosts: str = setting(
        "",
        "Comma-separated hosts a pipeline may download from although they resolve to a loopback, "
        "private or other non-public address (all other such hosts are refused).")
    source_max_bytes: int = setting(
        20 * 1024 ** 3,
        "Largest file a pipeline downloads, in bytes; a larger one fails the run (nothing of it "
        "is kept).")
    run_lease_seconds: int = setting(
        60,
        "How long a pipeline run's lease lasts without renewal; a dead worker's run is given up "
        "after it.")
    scheduler_tick_seconds: int = setting(
        5,
        "How often the scheduler looks for due and queued work.")
    heartbeat_max_age_seconds: int = setting(
        30,
        "/readyz reports the scheduler down when its heartbeat is older.")
    tile_cache_seconds: int = setting(
        86400,
        "How long a vector tile stays in the Redis tile cache (changes invalidate it at once); 0 "
        "keeps none.")
    tile_max_features: int = setting(20000, "Most features of one layer in one tile.")
    basemap_style_url: str = setting(
        "",
        "A MapLibre style URL for an external basemap; empty: our own OSM data. Its origin is "
        "allowed in the CSP (connect-src, img-src).")
    basemap_styles: str = setting(
        "",
        "More basemaps an admin may choose on /admin/map: name=URL pairs separated by spaces "
        "(MapLibre style URLs; their origins are allowed in the CSP like the default's).")
    check_schema: bool = setting(
        True,
        "Refuse to start when the database schema is behind the code.")
    migrator_attempts: int = setting(
        30,
        "How many times (2 s apart) the migrator tries to reach the database.")
    client_issuer: str = setting(
        "",
        "Issuer of machine clients' access tokens (client credentials); empty: "
        "PORTAL_OIDC_ISSUER.")
    client_audience: str = setting(
        "portal",
        "The audience (aud) a machine client's token must name.")
    client_roles_claim: str = setting(
        "realm_access.roles",
        "Dotted path of the roles claim in a machine client's token.")
    client_role: str = setting(
        "portal_client",
        "The role a machine client's token must carry.")
    client_workspace_claim: str = setting(
        "portal_workspace",
        'The claim naming the workspace a client acts for (else its registration).')
    jwks_cache_seconds: int = setting(
        300,
        "How long the issuer's keys are cached (an unknown key id fetches them again).")
    ratelimit_client: str = setting(
        "6000 per minute",
        "Limit for a machine client's requests, per client.")
    client_quota: str = setting(
        "1000000 per day",
        'Datapoints a machine client may push (a batch counts its valid items).')
    overpass_url: str = setting(
        "https://overpass-api.de/api/interpreter",
        "The Overpass API endpoint dataset pipelines of source_type overpass ask (held to the"
        " same address rules as every other download).")
    scheduler_metrics_port: int = setting(
        0,
        "Port (on 127.0.0.1) where each scheduler process serves its Prometheus metrics (its "
        "jobs' runs and durations); 0: not served.")
    gbfs_min_interval_seconds: float = setting(
        10.0,
        "Shortest time between two fetches of one GBFS file (what `ttl: 0` gets, and the "
        "longest wait for data overdue at the source), and the first step of the backoff "
        "after a failed fetch.")
    gbfs_timeout_seconds: float = setting(
        10.0,
        "A GBFS fetch fails when connecting, or waiting for the next bytes, takes longer.")
    gbfs_max_bytes: int = setting(
        32 * 1024 * 1024,
        "Largest GBFS file fetched, in bytes; a larger answer is a failed fetch.")
    gbfs_pollers: int = setting(
        12,
        "GBFS feeds one scheduler process polls at once (threads whose fetches overlap; they "
        "share PORTAL_GBFS_DB_CONNECTIONS).")
    gbfs_db_connections: int = setting(
        3,
        "Database connections the GBFS pollers of one scheduler process share, of "
        "PORTAL_SCHEDULER_DB_CONNECTIONS (held only to read a feed's files and to write a "
        "poll's results, never while fetching).")
    gbfs_per_host: int = setting(
        8,
        "GBFS fetches at once to one host (several feeds of one operator often share a "
        "host).")
    gbfs_history_days: int = setting(
        30,
        "How long station availability history is kept (the newest change of each station "
        "stays).")
    mqtt_url: str = setting(
        "mqtt://127.0.0.1:1883",
        "The MQTT broker of the sensor subscriber (mqtt://host:port); the admin health page "
        "connects to it.")
    mqtt_topics: str = setting(
        "",
        "The sensor subscriber's allow-list of topic filters, comma-separated, each `filter` "
        "(The Things Stack v3 uplinks) or `filter=mapping` (plain JSON read with a mapping of"
        " PORTAL_MQTT_MAPPINGS); empty: no subscriber.")
    mqtt_mappings: str = setting(
        "",
        "JSON object of plain-JSON mappings by name: dotted paths of `device`, `time`, "
        "`values` and optionally `name`, `lat`, `lon`, `kind`, and `units`.")
    mqtt_share_group: str = setting(
        "portal",
        "The MQTT 5 shared-subscription group: subscribers of one group split the messages.")
    health_check_timeout_seconds: float = setting(
        2.0,
        "How long the admin health page waits for each component (database, Redis, broker, "
        "OIDC issuer) before reporting it as timed out.")
    plausible_script_url: str = setting(
        "",
        "Plausible analytics: the URL of its script (e.g. https://plausible.io/js/script.js); "
        "with PORTAL_PLAUSIBLE_DOMAIN it is added to every page and allowed by the CSP. "
        "Empty: none.")
    plausible_domain: str = setting(
        "",
        "Plausible analytics: the site's domain as registered there (data-domain).")
    analytics_flush_seconds: float = setting(
        10.0,
        "How often each web process adds its counts of pages, tiles and API calls to the "
        "daily totals in PostgreSQL (0: after every request).")
    log_format: str = setting("text", "text (readable) or json (one object a line).")
    log_level: str = setting("INFO", "Python logging level.")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None,
                 overrides: Mapping[str, object] | None = None) -> Settings:
        """The settings of this process: from environ (os.environ by default), where
        overrides (by field name, already typed) win."""
        environ = os.environ if environ is None else environ
        settings = cls(**read_values(VARIABLES, environ, overrides or {}))
        settings.validate()
        return settings

    @property
    def ride_limits(self) -> RideLimits:
        return RideLimits(max_points=self.ride_max_points, max_hours=self.ride_max_hours)

    @property
    def sqlalchemy_url(self) -> str:
        """The database URL naming the psycopg2 driver (SQLAlchemy 2.1 defaults to psycopg 3)."""
        scheme, _, rest = self.database_url.partition("://")
        if scheme in ("postgres", "postgresql"):
            return f"postgresql+psycopg2://{rest}"
        return self.database_url

    @property
    def libpq_dsn(self) -> str:
        """The same database as a libpq URL, for psycopg2.connect()."""
        _, _, rest = self.database_url.partition("://")
        return f"postgresql://{rest}"

    @property
    def basemaps(self) -> dict[str, str]:
        """The basemaps an arrangement may choose, by name: "default" is
        PORTAL_BASEMAP_STYLE_URL, the others PORTAL_BASEMAP_STYLES."""
        out = {"default": self.basemap_style_url} if self.basemap_style_url else {}
        for pair in self.basemap_styles.split():
            name, _, url = pair.partition("=")
            out[name] = url
        return out

    @property
    def mqtt_broker(self) -> tuple[str, int]:
        """Host and port of PORTAL_MQTT_URL."""
        from urllib.parse import urlsplit
        parts = urlsplit(self.mqtt_url)
        try:
            port = parts.port or 1883
        except ValueError:
            port = None
        if parts.scheme != "mqtt" or not parts.hostname or port is None:
            raise SettingsError("PORTAL_MQTT_URL must be mqtt://host:port")
        return parts.hostname, port

    @property
    def mqtt_routes(self):
        """The subscriber's topic filters with their readers (empty: no subscriber)."""
        from matching_and_import_db.live.mqtt_subscriber import routes_of
        try:
            return routes_of(self.mqtt_topics, self.mqtt_mappings)
        except ValueError as exc:
            raise SettingsError(str(exc)) from None

    def validate(self) -> None:
        for pair in self.basemap_styles.split():
            name, _, url = pair.partition("=")
            if not name or name == "none" or not url.startswith(("http://", "https://")):
                raise SettingsError("PORTAL_BASEMAP_STYLES must be name=http(s)://… pairs "
                                    f"separated by spaces (not {pair!r}; 'none' is taken)")
        if not self.database_url.startswith(("postgres://", "postgresql://",
                                              "postgresql+psycopg2://")):
            raise SettingsError("PORTAL_DATABASE_URL must be a postgresql:// URL")
        if self.log_format not in ("text", "json"):
            raise SettingsError("PORTAL_LOG_FORMAT must be text or json")
        if self.trusted_proxies < 0:
            raise SettingsError("PORTAL_TRUSTED_PROXIES must not be negative")
        if self.run_lease_seconds < 5:
            raise SettingsError("PORTAL_RUN_LEASE_SECONDS must be at least 5")
        if self.ride_lease_seconds < 3:  # renewed every third of it, so a second at least
            raise SettingsError("PORTAL_RIDE_LEASE_SECONDS must be at least 3")
        if self.source_max_bytes < 1024:
            raise SettingsError("PORTAL_SOURCE_MAX_BYTES must be at least 1024")
        if self.upload_max_bytes < 1024:
            raise SettingsError("PORTAL_UPLOAD_MAX_BYTES must be at least 1024")
        if self.ride_max_points < 1:
            raise SettingsError("PORTAL_RIDE_MAX_POINTS must be at least 1")
        if not 0 < self.ride_max_hours <= 24 * 365:
            raise SettingsError("PORTAL_RIDE_MAX_HOURS must be more than 0 (and at most a year)")
        if self.db_pool_size < 1 or self.db_max_overflow < 0:
            raise SettingsError("PORTAL_DB_POOL_SIZE must be at least 1 and "
                                "PORTAL_DB_MAX_OVERFLOW not negative")
        if self.scheduler_db_connections < 4:
            raise SettingsError("PORTAL_SCHEDULER_DB_CONNECTIONS must be at least 4")
        for name in ("gbfs_pollers", "gbfs_db_connections", "gbfs_per_host"):
            if getattr(self, name) < 1:
                raise SettingsError(f"PORTAL_{name.upper()} must be at least 1")
        if self.session_role_ttl_seconds < 1:
            raise SettingsError("PORTAL_SESSION_ROLE_TTL_SECONDS must be at least 1")
        if self.tile_max_features < 1:
            raise SettingsError("PORTAL_TILE_MAX_FEATURES must be at least 1")
        if self.tile_cache_seconds < 0:
            raise SettingsError("PORTAL_TILE_CACHE_SECONDS must not be negative")
        self.mqtt_broker  # noqa: B018 (raises on a malformed URL)
        self.mqtt_routes  # noqa: B018 (raises on a malformed allow-list or mapping)
        if bool(self.plausible_script_url) != bool(self.plausible_domain):
            raise SettingsError("PORTAL_PLAUSIBLE_SCRIPT_URL and PORTAL_PLAUSIBLE_DOMAIN are "
                                "set together or not at all")
        if self.plausible_script_url and not self.plausible_script_url.startswith(
                ("https://", "http://")):
            raise SettingsError("PORTAL_PLAUSIBLE_SCRIPT_URL must be an http(s) URL")
        if self.analytics_flush_seconds < 0 or self.health_check_timeout_seconds <= 0:
            raise SettingsError("PORTAL_ANALYTICS_FLUSH_SECONDS must not be negative and "
                                "PORTAL_HEALTH_CHECK_TIMEOUT_SECONDS must be more than 0")
        if not self.public_url.startswith(("http://", "https://")):
            raise SettingsError("PORTAL_PUBLIC_URL must start with http:// or https://")



VARIABLES = variables_of(Settings)
