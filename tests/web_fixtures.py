"""The web process as scripts/start.sh runs it (scripts/web.sh: nginx in front of
gunicorn), and a Redis server of the test's own, on free ports."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import redis as redis_lib
import requests

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
