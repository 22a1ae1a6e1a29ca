"""What the benchmarks that start servers share: a free port, and waiting until a server
answers (or says why it cannot)."""

from __future__ import annotations

import socket
import subprocess
import time

import requests


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_up(url: str, proc: subprocess.Popen, timeout: float = 90) -> None:
    """Until `url` answers below 500; a server that exits first, or never answers, ends
    the benchmark with a message naming it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server for {url} exited with {proc.returncode}")
        try:
            if requests.get(url, timeout=5).status_code < 500:
                return
        except requests.RequestException:
            pass
        time.sleep(0.3)
    raise SystemExit(f"{url} did not come up in {timeout} s")
