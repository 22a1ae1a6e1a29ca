"""The portal as operators run it, for the load and fault tests: gunicorn serving the app
(as entrypoint.sh's web role does), the memory its processes use, and the database
connections each process holds."""

from __future__ import annotations

import resource
import subprocess
import sys
import threading
from pathlib import Path

import psutil
import requests

from tests.conftest import ROOT, free_port, wait_until

MB = 1024 * 1024
# a guard for the machine the tests share, far above what the tests allow: a memory bomb
# that gets through fails its request (MemoryError) instead of taking every core's RAM
ADDRESS_SPACE_LIMIT = 3 * 1024 * MB


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE_LIMIT, ADDRESS_SPACE_LIMIT))


class Gunicorn:
    """gunicorn with the web role's settings (workers × threads), on a free port."""

    def __init__(self, env: dict[str, str], log_path: Path, workers: int = 2, threads: int = 4):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        self._log = open(log_path, "wb")
        gunicorn = str(Path(sys.executable).parent / "gunicorn")
        self.proc = subprocess.Popen(
            [gunicorn, "--bind", f"127.0.0.1:{self.port}", "--workers", str(workers),
             "--threads", str(threads), "app:create_app()"],
            env={**env, "PORTAL_PUBLIC_URL": self.url}, cwd=ROOT,
            stdout=self._log, stderr=subprocess.STDOUT, preexec_fn=_limit_memory)

        def up():
            if self.proc.poll() is not None:
                raise AssertionError(f"gunicorn exited: {self.log()}")
            try:
                return requests.get(self.url + "/livez", timeout=2).ok
            except (requests.ConnectionError, requests.Timeout):  # workers still booting
                return False
        wait_until(up, 60, 0.2, "gunicorn to answer /livez")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def pids(self) -> list[int]:
        """The master and its workers."""
        master = psutil.Process(self.proc.pid)
        return [master.pid] + [c.pid for c in master.children(recursive=True)]

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self._log.close()


class PeakMemory:
    """Samples the resident memory of processes (and their children) in a thread, keeping
    each one's peak, until stopped."""

    def __init__(self, roots: dict[str, int], interval: float = 0.05):
        self.roots = roots
        self.interval = interval
        self.peak_mb: dict[str, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _processes(self):
        for name, pid in self.roots.items():
            try:
                root = psutil.Process(pid)
                family = [root] + root.children(recursive=True)
            except psutil.NoSuchProcess:
                continue
            for proc in family:
                yield f"{name}[{proc.pid}]", proc

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            for label, proc in self._processes():
                try:
                    rss = proc.memory_info().rss / MB
                except psutil.NoSuchProcess:
                    continue
                self.peak_mb[label] = max(self.peak_mb.get(label, 0.0), rss)

    def stop(self) -> dict[str, float]:
        self._stop.set()
        self._thread.join(5)
        return self.peak_mb


def backends_of(conn, pids: list[int]) -> list[int]:
    """The PostgreSQL backend pids serving these processes' connections, told apart by the
    client port of each TCP connection (pg_stat_activity.client_port)."""
    ports = set()
    for pid in pids:
        try:
            for c in psutil.Process(pid).net_connections(kind="tcp"):
                if c.raddr and c.raddr.port == 5432:
                    ports.add(c.laddr.port)
        except psutil.NoSuchProcess:
            continue
    if not ports:
        return []
    with conn.cursor() as cur:
        cur.execute("SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                    "AND client_port = ANY(%s)", (sorted(ports),))
        found = [r[0] for r in cur.fetchall()]
    conn.commit()
    return found


def terminate_backends(conn, backend_pids: list[int]) -> int:
    with conn.cursor() as cur:
        cur.execute("SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) "
                    "FROM unnest(%s::int[]) AS pid", (backend_pids,))
        count = cur.fetchone()[0]
    conn.commit()
    return count
