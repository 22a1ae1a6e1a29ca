"""The web process as scripts/start.sh runs it (scripts/web.sh: nginx in front of
gunicorn), a Redis server of the test's own and a PgBouncer, on free ports."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import psycopg2
import pytest
import redis as redis_lib
import requests
from sqlalchemy.engine import make_url

from tests.conftest import ROOT, free_port, wait_until


class WebProcess:
    def __init__(self, env: dict[str, str], log_path: Path):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        self._log = open(log_path, "wb")
        env = {**env, "PORT": str(self.port), "PORTAL_PUBLIC_URL": self.url,
               "PORTAL_TRUSTED_PROXIES": "1",
               # gunicorn and the app's packages from the test's own virtualenv
               "PATH": f"{Path(sys.executable).parent}:{os.environ.get('PATH', '')}"}
        self.proc = subprocess.Popen(["bash", str(ROOT / "scripts" / "web.sh")], env=env,
                                     cwd=ROOT, stdout=self._log, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        wait_until(self._up, 60, interval=0.2, message=f"the web process on {self.url}")

    def _up(self) -> bool:
        if self.proc.poll() is not None:
            pytest.fail(f"scripts/web.sh exited: {self.log()}")
        try:
            return requests.get(self.url + "/livez", timeout=2).ok
        except requests.RequestException:  # refused, or gunicorn's workers still booting
            return False

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)  # its own session: only ours
                self.proc.wait(10)
        self._log.close()


@pytest.fixture
def start_web(settings_env, tmp_path):
    started: list[WebProcess] = []

    def start(**extra_env) -> WebProcess:
        env = {**settings_env, **{k: str(v) for k, v in extra_env.items()}}
        web = WebProcess(env, tmp_path / f"web-{len(started)}.log")
        started.append(web)
        return web

    yield start
    for web in started:
        web.stop()


class RedisServer:
    """A redis-server process of the test's own (never the machine's shared one)."""

    def __init__(self, workdir: Path):
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.workdir = workdir
        self.proc: subprocess.Popen | None = None
        self.start()

    def start(self) -> None:
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.workdir)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        client = redis_lib.Redis.from_url(self.url)

        def up():
            try:
                return client.ping()
            except redis_lib.ConnectionError:
                return False
        wait_until(up, 20, message=f"redis-server on port {self.port}")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)


@pytest.fixture
def own_redis(tmp_path):
    server = RedisServer(tmp_path)
    yield server
    server.stop()


class PgBouncer:
    """A pgbouncer process in transaction pooling mode in front of the test database, with
    a generated config, as docker-compose.yml runs it in front of the app and scheduler."""

    def __init__(self, database_url: str, workdir: Path, pool_size: int = 5):
        url = make_url(database_url)
        self.port = free_port()
        self.url = url.set(host="127.0.0.1", port=self.port).render_as_string(
            hide_password=False)
        self.admin_url = url.set(host="127.0.0.1", port=self.port, database="pgbouncer") \
            .render_as_string(hide_password=False)
        workdir.mkdir(parents=True, exist_ok=True)
        (workdir / "userlist.txt").write_text(f'"{url.username}" "{url.password}"\n')
        (workdir / "pgbouncer.ini").write_text(f"""\
[databases]
{url.database} = host={url.host or '127.0.0.1'} port={url.port or 5432} dbname={url.database}

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {self.port}
unix_socket_dir =
auth_type = scram-sha-256
auth_file = {workdir / 'userlist.txt'}
pool_mode = transaction
default_pool_size = {pool_size}
max_client_conn = 200
admin_users = {url.username}
""")
        self.log_path = workdir / "pgbouncer.log"
        self._log = open(self.log_path, "wb")
        # pgbouncer refuses to run as root; it reads its files first, then drops to nobody
        user = ["-u", "nobody"] if os.geteuid() == 0 else []
        self.proc = subprocess.Popen(["pgbouncer", *user, str(workdir / "pgbouncer.ini")],
                                     stdout=self._log, stderr=subprocess.STDOUT)

        def up():
            if self.proc.poll() is not None:
                pytest.fail(f"pgbouncer exited: {self.log_path.read_text(errors='replace')}")
            try:
                psycopg2.connect(self.url, connect_timeout=2).close()
                return True
            except psycopg2.OperationalError:
                return False
        wait_until(up, 20, interval=0.2, message=f"pgbouncer on port {self.port}")

    def show(self, what: str) -> list[dict]:
        """SHOW POOLS / STATS / SERVERS of pgbouncer's admin console."""
        conn = psycopg2.connect(self.admin_url)
        conn.autocommit = True  # the console has no transactions
        with conn.cursor() as cur:
            cur.execute(f"SHOW {what}")  # what: a constant from the test, not input
            cols = [d[0] for d in cur.description]
            rows = [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]
        conn.close()
        return rows

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)
        self._log.close()


@pytest.fixture
def pgbouncer(settings_env, tmp_path):
    bouncer = PgBouncer(settings_env["PORTAL_DATABASE_URL"], tmp_path / "pgbouncer")
    yield bouncer
    bouncer.stop()


@pytest.fixture(scope="module")
def module_web(settings_env, tmp_path_factory):
    """One web process for a whole test module (each test still starts from an empty
    database and Redis): for modules whose tests only read what they set up themselves."""
    web = WebProcess(settings_env, tmp_path_factory.mktemp("web") / "web.log")
    yield web
    web.stop()
