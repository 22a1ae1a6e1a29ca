"""Settings from PORTAL_* environment variables, typed and validated once per process.

Every variable is declared here, once, with its type and default; the README table is
checked against this list by a test, so the two cannot drift apart.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from matching_and_import_db.tracks.model import RideLimits

PREFIX = "PORTAL_"


class SettingsError(RuntimeError):
    """A setting is missing or malformed; the message names the variable."""


@dataclass(frozen=True)
class Variable:
    name: str
    default: object
    kind: type
    help: str
    secret: bool = False

    @property
    def env(self) -> str:
        return PREFIX + self.name.upper()


REQUIRED = object()

VARIABLES: tuple[Variable, ...] = (
    Variable("secret_key", REQUIRED, str, "Signs session cookies and CSRF tokens.", secret=True),
    Variable("database_url", "postgresql://postgres@127.0.0.1:5432/portal", str,
             "PostgreSQL with PostGIS (SQLAlchemy URL)."),
    Variable("redis_url", "redis://127.0.0.1:6379/0", str,
             "Redis for locks, rate limits, progress and live state."),
    Variable("public_url", "http://127.0.0.1:5001", str,
             "Public base URL: absolute links and OIDC redirect URIs (never the request's "
             "Host); https:// also turns on HSTS and secure cookies."),
    Variable("trusted_proxies", 0, int,
             "How many reverse proxies in front of the app set X-Forwarded-*."),
    Variable("oidc_issuer", "", str,
             "OpenID Connect issuer URL (discovery at /.well-known/openid-configuration)."),
    Variable("oidc_client_id", "portal", str, "OIDC client id."),
    Variable("oidc_client_secret", "", str, "OIDC client secret.", secret=True),
    Variable("oidc_scopes", "openid email profile", str, "Scopes asked for at login."),
    Variable("oidc_roles_claim", "realm_access.roles", str,
             "Dotted path of the claim that lists the user's roles (Keycloak default)."),
    Variable("session_role_ttl_seconds", 300, int,
             "How often a logged-in user's role is confirmed at the provider (refresh token "
             "grant + userinfo); a user the provider no longer knows is logged out."),
    Variable("db_pool_size", 5, int,
             "Database connections each web worker process keeps open (SQLAlchemy pool_size)."),
    Variable("db_max_overflow", 2, int,
             "Extra connections a web worker may open at busy moments (SQLAlchemy max_overflow)."),
    Variable("scheduler_db_connections", 6, int,
             "Most database connections one scheduler process holds at once (its jobs wait "
             "for a free one); at least 4: a pipeline run needs 3 beside the ride queue's 1."),
    Variable("ratelimit_default", "600 per minute", str, "Limit for every endpoint."),
    Variable("ratelimit_login", "20 per minute", str, "Limit for login and its callback."),
    Variable("ratelimit_tiles", "3000 per minute", str, "Limit for map tiles."),
    Variable("ratelimit_upload", "120 per hour", str,
             "Limit for ride uploads (browser and device API), per client address."),
    Variable("upload_max_bytes", 32 * 1024 * 1024, int,
             "Largest ride file accepted, in bytes (after decompression for gzip files)."),
    Variable("ride_max_points", 100_000, int,
             "Most measurements (CSV rows, GPX points) of one ride; a longer file is refused "
             "with 422 while it is read."),
    Variable("ride_max_hours", 24.0, float,
             "Longest ride, in hours from its first to its last timestamp; a longer one is "
             "refused with 422."),
    Variable("track_lease_seconds", 30, int,
             "How long a claimed ride's lease lasts without renewal (renewed every third of "
             "it while the ride is processed); the limit for a worker cut off from Redis."),
    Variable("overtake_minimum_urban_m", 1.5, float,
             "Legal minimum overtaking distance in town (zone:traffic urban, or maxspeed "
             "up to 50), metres."),
    Variable("overtake_minimum_rural_m", 2.0, float,
             "Legal minimum overtaking distance outside towns, metres."),
    Variable("data_dir", "var/data", str, "Where raw uploads and downloaded sources are kept."),
    Variable("import_dir", "var/import", str,
             "The only directories (separated by `:`) a pipeline may read a local source file "
             "from; a relative source is taken relative to the first."),
    Variable("source_allowed_hosts", "", str,
             "Comma-separated hosts a pipeline may download from although they resolve to "
             "a loopback, private or other non-public address (all other such hosts are "
             "refused)."),
    Variable("source_max_bytes", 20 * 1024 ** 3, int,
             "Largest file a pipeline downloads, in bytes; a larger one fails the run "
             "(nothing of it is kept)."),
    Variable("run_lease_seconds", 60, int,
             "How long a pipeline run's lease lasts without renewal; a dead worker's run is "
             "given up after it."),
    Variable("scheduler_tick_seconds", 5, int,
             "How often the scheduler looks for due and queued work."),
    Variable("heartbeat_max_age_seconds", 30, int,
             "/readyz reports the scheduler down when its heartbeat is older."),
    Variable("tile_cache_seconds", 86400, int,
             "How long a vector tile stays in the Redis tile cache (changes invalidate it "
             "at once); 0 keeps none."),
    Variable("tile_max_features", 20000, int, "Most features of one layer in one tile."),
    Variable("basemap_style_url", "", str,
             "A MapLibre style URL for an external basemap; empty: our own OSM data. Its "
             "origin is allowed in the CSP (connect-src, img-src)."),
    Variable("check_schema", True, bool,
             "Refuse to start when the database schema is behind the code."),
    Variable("migrator_attempts", 30, int,
             "How many times (2 s apart) the migrator tries to reach the database."),
    Variable("mqtt_url", "mqtt://127.0.0.1:1883", str,
             "The MQTT broker of the sensor subscriber (mqtt://host:port)."),
    Variable("mqtt_topics", "", str,
             "The sensor subscriber's allow-list of topic filters, comma-separated, each "
             "`filter` (The Things Stack v3 uplinks) or `filter=mapping` (plain JSON read with "
             "a mapping of PORTAL_MQTT_MAPPINGS); empty: no subscriber."),
    Variable("mqtt_mappings", "", str,
             "JSON object of plain-JSON mappings by name: dotted paths of `device`, `time`, "
             "`values` and optionally `name`, `lat`, `lon`, `kind`, and `units`."),
    Variable("mqtt_share_group", "portal", str,
             "The MQTT 5 shared-subscription group: subscribers of one group split the "
             "messages."),
    Variable("log_format", "text", str, "text (readable) or json (one object a line)."),
    Variable("log_level", "INFO", str, "Python logging level."),
)

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def _parse(var: Variable, raw: str) -> object:
    if var.kind is bool:
        low = raw.strip().lower()
        if low in _TRUE:
            return True
        if low in _FALSE:
            return False
        raise SettingsError(f"{var.env} must be true or false, got {raw!r}")
    if var.kind is int:
        try:
            return int(raw)
        except ValueError:
            raise SettingsError(f"{var.env} must be a whole number, got {raw!r}") from None
    if var.kind is float:
        try:
            return float(raw)
        except ValueError:
            raise SettingsError(f"{var.env} must be a number, got {raw!r}") from None
    return raw


@dataclass(frozen=True)
class Settings:
    secret_key: str
    database_url: str
    redis_url: str
    public_url: str
    trusted_proxies: int
    oidc_issuer: str
    oidc_client_id: str
    oidc_client_secret: str
    oidc_scopes: str
    oidc_roles_claim: str
    session_role_ttl_seconds: int
    db_pool_size: int
    db_max_overflow: int
    scheduler_db_connections: int
    ratelimit_default: str
    ratelimit_login: str
    ratelimit_tiles: str
    ratelimit_upload: str
    upload_max_bytes: int
    ride_max_points: int
    ride_max_hours: float
    track_lease_seconds: int
    overtake_minimum_urban_m: float
    overtake_minimum_rural_m: float
    data_dir: str
    import_dir: str
    source_allowed_hosts: str
    source_max_bytes: int
    run_lease_seconds: int
    scheduler_tick_seconds: int
    heartbeat_max_age_seconds: int
    tile_cache_seconds: int
    tile_max_features: int
    basemap_style_url: str
    check_schema: bool
    migrator_attempts: int
    mqtt_url: str
    mqtt_topics: str
    mqtt_mappings: str
    mqtt_share_group: str
    log_format: str
    log_level: str

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None,
                 overrides: Mapping[str, object] | None = None) -> Settings:
        environ = os.environ if environ is None else environ
        overrides = overrides or {}
        values: dict[str, object] = {}
        for var in VARIABLES:
            if var.name in overrides:
                values[var.name] = overrides[var.name]
            elif environ.get(var.env, "") != "":
                values[var.name] = _parse(var, environ[var.env])
            elif var.default is REQUIRED:
                raise SettingsError(f"{var.env} is not set; it is required")
            else:
                values[var.name] = var.default
        settings = cls(**values)
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

    def validate(self) -> None:
        if not self.database_url.startswith(("postgres://", "postgresql://",
                                              "postgresql+psycopg2://")):
            raise SettingsError("PORTAL_DATABASE_URL must be a postgresql:// URL")
        if self.log_format not in ("text", "json"):
            raise SettingsError("PORTAL_LOG_FORMAT must be text or json")
        if self.trusted_proxies < 0:
            raise SettingsError("PORTAL_TRUSTED_PROXIES must not be negative")
        if self.run_lease_seconds < 5:
            raise SettingsError("PORTAL_RUN_LEASE_SECONDS must be at least 5")
        if self.track_lease_seconds < 3:  # renewed every third of it, so a second at least
            raise SettingsError("PORTAL_TRACK_LEASE_SECONDS must be at least 3")
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
        if self.session_role_ttl_seconds < 1:
            raise SettingsError("PORTAL_SESSION_ROLE_TTL_SECONDS must be at least 1")
        if self.tile_max_features < 1:
            raise SettingsError("PORTAL_TILE_MAX_FEATURES must be at least 1")
        if self.tile_cache_seconds < 0:
            raise SettingsError("PORTAL_TILE_CACHE_SECONDS must not be negative")
        if not self.public_url.startswith(("http://", "https://")):
            raise SettingsError("PORTAL_PUBLIC_URL must start with http:// or https://")
        self.mqtt_broker  # noqa: B018 (raises on a malformed URL)
        self.mqtt_routes  # noqa: B018 (raises on a malformed allow-list or mapping)

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

