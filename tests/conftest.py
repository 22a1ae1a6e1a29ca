"""Test fixtures: a real PostGIS database migrated once per session by the real migrator,
Redis, a real OIDC provider process, and scheduler processes started as operators would.

Nothing is skipped when a service is missing: the fixture fails and says what is missing.
scripts/test.sh sets everything up; the variables below say what it found.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import psycopg2
import pytest
import redis as redis_lib
import requests
from psycopg2 import sql as psql
from sqlalchemy.engine import make_url

# ride fixtures (riders with API keys, processing), the published golden stops case,
# browser fixtures, the web process as start.sh runs it (with a Redis server of its own)
# live beside this file
pytest_plugins = ["tests.rides_fixtures", "tests.stops_fixtures", "tests.browser_fixtures",
                  "tests.web_fixtures", "tests.workspace_fixtures",
                  "tests.gbfs_fixtures"]

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures"
OSLO_PBF = ROOT / "demo" / "oslo-east-filtered.osm.pbf"

TEST_SETTINGS = {
    "PORTAL_SECRET_KEY": "test-secret-not-for-production",
    "PORTAL_PUBLIC_URL": "http://localhost",
    "PORTAL_OIDC_CLIENT_ID": "portal-tests",
    # the test provider accepts any secret for an unregistered client, but not none
    "PORTAL_OIDC_CLIENT_SECRET": "any-value-the-mock-accepts",
    "PORTAL_SCHEDULER_TICK_SECONDS": "1",
    "PORTAL_RUN_LEASE_SECONDS": "6",
    "PORTAL_HEARTBEAT_MAX_AGE_SECONDS": "10",
    "PORTAL_LOG_LEVEL": "INFO",
}


def _required_env(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        pytest.fail(f"{name} is not set: run the tests with scripts/test.sh, which sets up "
                    f"PostgreSQL/PostGIS and Redis and exports it")
    return value


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(predicate, timeout: float, interval: float = 0.1, message: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {message}")


def recreate_database(url: str, template: str | None) -> None:
    parsed = make_url(url)
    admin = parsed.set(database="postgres").render_as_string(hide_password=False)
    conn = psycopg2.connect(admin)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)')
        if template:
            cur.execute(f'CREATE DATABASE "{parsed.database}" TEMPLATE "{template}"')
        else:
            cur.execute(f'CREATE DATABASE "{parsed.database}"')
    conn.close()


@pytest.fixture(scope="session")
def database_url() -> str:
    url = _required_env("PORTAL_TEST_DATABASE_URL")
    recreate_database(url, os.environ.get("PORTAL_TEST_TEMPLATE"))
    return url


@pytest.fixture(scope="session")
def redis_url() -> str:
    url = os.environ.get("PORTAL_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
    try:
        redis_lib.Redis.from_url(url).ping()
    except redis_lib.ConnectionError as exc:
        pytest.fail(f"Redis at {url} is not reachable: {exc}")
    return url


@pytest.fixture(scope="session")
def oidc_provider(tmp_path_factory):
    """A real OpenID Connect provider process (oidc-provider-mock).

    Its log goes to a file: it logs every request, and a pipe nobody reads fills up after
    a few hundred logins and blocks the provider mid-response."""
    port = free_port()
    log_path = tmp_path_factory.mktemp("oidc") / "provider.log"
    log = open(log_path, "wb")
    proc = subprocess.Popen(
        [str(Path(sys.executable).parent / "oidc-provider-mock"), "--port", str(port)],
        stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"

    def up():
        try:
            return requests.get(url + "/.well-known/openid-configuration", timeout=1).ok
        except requests.ConnectionError:
            return proc.poll() is not None and pytest.fail(
                f"oidc-provider-mock exited: {log_path.read_text(errors='replace')}")

    wait_until(up, 20, message="the OIDC provider to start")
    yield url
    proc.terminate()
    proc.wait(10)
    log.close()


@pytest.fixture(scope="session")
def base_env(database_url, redis_url, oidc_provider, tmp_path_factory) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PORTAL_")}
    env.update(TEST_SETTINGS)
    env.update(PORTAL_DATABASE_URL=database_url, PORTAL_REDIS_URL=redis_url,
               PORTAL_OIDC_ISSUER=oidc_provider,
               PORTAL_DATA_DIR=str(tmp_path_factory.mktemp("data")),
               # pipelines read the fixtures, the demo data and what tests write under
               # tmp_path, and download from the tests' local HTTP servers
               PORTAL_IMPORT_DIR=os.pathsep.join(
                   [str(FIXTURES), str(ROOT / "demo"), str(tmp_path_factory.getbasetemp())]),
               PORTAL_SOURCE_ALLOWED_HOSTS="127.0.0.1")
    return env


@pytest.fixture(scope="session")
def migrated(base_env) -> dict[str, str]:
    """The schema, made by the real migrator process."""
    result = subprocess.run([sys.executable, "-m", "migrator"], env=base_env, cwd=ROOT,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return base_env


@pytest.fixture(scope="session")
def settings_env(migrated) -> dict[str, str]:
    return migrated


@pytest.fixture
def db_conn(settings_env):
    conn = psycopg2.connect(settings_env["PORTAL_DATABASE_URL"])
    yield conn
    conn.close()


@pytest.fixture
def redis(settings_env):
    return redis_lib.Redis.from_url(settings_env["PORTAL_REDIS_URL"])


# tables of the database that are not the portal's data: the migrator's bookkeeping and
# PostGIS's own reference table (filled by CREATE EXTENSION)
NOT_DATA_TABLES = ("alembic_version", "spatial_ref_sys")


def empty_every_table(database_url: str) -> None:
    """Empty every table of the portal's schema, found in the database's own catalog: a
    table a new migration adds is emptied between tests without anyone listing it."""
    conn = psycopg2.connect(database_url)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
                    "AND tablename <> ALL(%s) ORDER BY tablename", (list(NOT_DATA_TABLES),))
        tables = [name for (name,) in cur.fetchall()]
        cur.execute(psql.SQL("TRUNCATE {} RESTART IDENTITY CASCADE").format(
            psql.SQL(", ").join(psql.Identifier(name) for name in tables)))
        # published datasets' own tables live in a schema of their own (datasets/store.py)
        cur.execute("DROP SCHEMA IF EXISTS datasets CASCADE; CREATE SCHEMA datasets")
    conn.close()


@pytest.fixture(autouse=True)
def clean_state(request):
    """Every test starts from empty tables and an empty Redis database."""
    if "settings_env" not in request.fixturenames and "app" not in request.fixturenames:
        yield
        return
    env = request.getfixturevalue("settings_env")
    empty_every_table(env["PORTAL_DATABASE_URL"])
    redis_lib.Redis.from_url(env["PORTAL_REDIS_URL"]).flushdb()
    shutil.rmtree(Path(env["PORTAL_DATA_DIR"]) / "raw", ignore_errors=True)  # ride uploads
    yield


def make_app(env: dict[str, str], **overrides):
    from app import create_app
    from matching_and_import_db.settings import Settings
    settings = Settings.from_env(environ=env, overrides=overrides)
    app = create_app(settings=settings)
    app.config.update(TESTING=True)
    return app


@pytest.fixture
def app(settings_env):
    app = make_app(settings_env)
    yield app
    from app.extensions import db
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


def login(client, oidc_url: str, sub: str, roles: list[str] | None = None,
          claims: dict | None = None):
    """Log in through the real provider: its authorization form, its token endpoint."""
    user_claims = {"email": f"{sub}@example.org", "name": sub.title(), **(claims or {})}
    if roles is not None:
        user_claims["realm_access"] = {"roles": roles}
    requests.put(f"{oidc_url}/users/{sub}", json=user_claims, timeout=5).raise_for_status()
    start = client.get("/login")
    assert start.status_code == 302, start.data
    authorize_url = start.headers["Location"]
    assert authorize_url.startswith(oidc_url)
    consent = requests.post(authorize_url, data={"sub": sub}, allow_redirects=False, timeout=5)
    assert consent.status_code == 302, consent.text
    callback = consent.headers["Location"]
    assert callback.startswith("http://localhost/auth/callback")
    done = client.get(callback.removeprefix("http://localhost"))
    assert done.status_code == 302, done.data
    return done


def csrf_token(client, path="/") -> str:
    page = client.get(path).data.decode()
    return page.split('name="csrf-token" content="')[1].split('"')[0]


class SchedulerProcess:
    def __init__(self, env: dict[str, str], log_path: Path):
        self.log_path = log_path
        self._log = open(log_path, "wb")
        self.proc = subprocess.Popen([sys.executable, "-m", "scheduler"], env=env, cwd=ROOT,
                                     stdout=self._log, stderr=subprocess.STDOUT)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def kill(self) -> None:
        self.proc.kill()
        self.proc.wait(10)

    def stop(self, timeout: float = 60) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        finally:
            self._log.close()


@pytest.fixture
def start_scheduler(settings_env, tmp_path):
    started: list[SchedulerProcess] = []

    def start(**extra_env) -> SchedulerProcess:
        env = {**settings_env, **{k: str(v) for k, v in extra_env.items()}}
        proc = SchedulerProcess(env, tmp_path / f"scheduler-{len(started)}.log")
        started.append(proc)
        return proc

    yield start
    for proc in started:
        if proc.proc.poll() is None:
            proc.kill()
