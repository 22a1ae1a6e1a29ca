"""The operator path for real: the project's images built by scripts/podman-stack.sh and
the project's docker-compose.yml running in a container engine (podman), tested from outside.

This needs root and podman (the script installs it). Where the engine cannot run, these
tests fail with the engine's own message; they never pass without a running stack.
"""

from __future__ import annotations

import subprocess
import threading
import time

import mapbox_vector_tile
import pytest
import requests

from tests.conftest import ROOT, wait_until

PORT = 5801
BASE = f"http://127.0.0.1:{PORT}"
SCRIPT = str(ROOT / "scripts" / "podman-stack.sh")
PROJECT = "portal-e2e"
# a clean environment: nothing from the developer's shell leaks into the compose file
ENV = {"PORTAL_PORT": str(PORT), "PODMAN_PROJECT": PROJECT, "HOME": "/root",
       "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}
OSLO_TILE = "/tiles/osm/14/8681/4765.mvt"

pytestmark = pytest.mark.timeout(3600)


def stack(*args: str, rebuild: bool = True) -> subprocess.CompletedProcess:
    env = {**ENV, "PORTAL_REBUILD": "1" if rebuild else "0"}
    result = subprocess.run([SCRIPT, *args], cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=3000)
    assert result.returncode == 0, (
        f"scripts/podman-stack.sh {' '.join(args)} failed (exit {result.returncode}):\n"
        f"{result.stdout[-3000:]}\n{result.stderr[-6000:]}")
    return result


def podman(*args: str) -> str:
    result = subprocess.run(["podman", *args], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def container(service: str) -> str:
    return f"{PROJECT}_{service}_1"


def psql(sql: str) -> str:
    return podman("exec", container("db"), "psql", "-U", "portal", "-d", "portal", "-Atc", sql)


def schema_dump() -> str:
    dump = podman("exec", container("db"), "pg_dump", "--schema-only", "-U", "portal", "portal")
    # pg_dump brackets its output with a random \restrict token: not part of the schema
    return "\n".join(line for line in dump.splitlines()
                     if not line.startswith(("\\restrict", "\\unrestrict")))


@pytest.fixture(scope="module")
def running_stack():
    stack("destroy")  # a clean start, whatever an earlier run left
    up = stack("up")
    yield up
    stack("destroy")


def test_the_stack_comes_up_healthy_and_ready(running_stack):
    figures = running_stack.stdout.strip().splitlines()[-1]
    assert '"stack_healthy_s"' in figures
    print("podman-stack figures:", figures)
    ready = requests.get(f"{BASE}/readyz", timeout=10)
    assert ready.status_code == 200, ready.text
    assert ready.json()["status"] == "ready"
    assert podman("inspect", container("migrator"), "--format", "{{.State.ExitCode}}") == "0"


def test_a_second_up_leaves_the_schema_as_it_was(running_stack):
    before = schema_dump()
    stack("up", rebuild=False)
    assert podman("inspect", container("migrator"), "--format", "{{.State.ExitCode}}") == "0"
    assert schema_dump() == before
    assert requests.get(f"{BASE}/readyz", timeout=10).status_code == 200


def test_an_osm_import_runs_in_the_scheduler_container_and_tiles_come_back(running_stack):
    podman("exec", container("app"), "flask", "--app", "app:create_app", "pipeline", "create",
           "oslo", "--if-missing", "--source", "/app/demo/oslo-east-filtered.osm.pbf")
    out = podman("exec", container("app"), "flask", "--app", "app:create_app", "pipeline", "run",
                 "oslo", "--wait", "--timeout", "300")
    assert "succeeded" in out
    scheduler_host = podman("inspect", container("scheduler"), "--format", "{{.Config.Hostname}}")
    worker = psql("SELECT worker FROM pipeline_runs WHERE status = 'succeeded' LIMIT 1")
    assert worker.startswith(scheduler_host + ":")
    assert psql("SELECT count(*) FROM osm_roads") == "14233"
    tile = requests.get(BASE + OSLO_TILE, timeout=10)
    assert tile.status_code == 200
    assert len(mapbox_vector_tile.decode(tile.content)["roads"]["features"]) > 50


def test_killing_the_app_while_requests_run_loses_nothing(running_stack):
    results: list[tuple[float, int | str]] = []  # (when the request started, its outcome)
    stop = threading.Event()

    def load():
        while not stop.is_set():
            started = time.monotonic()
            try:
                outcome = requests.get(BASE + OSLO_TILE, timeout=5).status_code
            except requests.RequestException as exc:
                outcome = type(exc).__name__
            results.append((started, outcome))
            time.sleep(0.05)  # the pace of the load, not a wait for work

    worker = threading.Thread(target=load)
    worker.start()
    wait_until(lambda: len(results) >= 10, 60, message="requests before the kill")
    podman("kill", container("app"))
    time.sleep(1)  # the app stays down a while on purpose: requests meet a dead container
    podman("start", container("app"))
    wait_until(lambda: subprocess.run(["podman", "healthcheck", "run", container("app")],
                                      capture_output=True).returncode == 0,
               120, interval=1, message="the app container to be healthy again")
    healthy_again = time.monotonic()

    def after():
        return [outcome for started, outcome in results if started >= healthy_again]

    # a request stuck on the dead container may hold the loop for its 5 s timeout first
    wait_until(lambda: len(after()) >= 20, 60, message="requests after the restart")
    stop.set()
    worker.join()
    before = [outcome for started, outcome in results if started < healthy_again]
    after = after()
    assert 200 in before  # requests ran when the app was killed
    assert after and set(after) == {200}, after  # no errors once it is back
    assert psql("SELECT count(*) FROM osm_roads") == "14233"
    assert requests.get(f"{BASE}/readyz", timeout=10).status_code == 200


def test_stopping_and_starting_again_keeps_the_data(running_stack):
    stack("down")
    assert subprocess.run(["podman", "container", "exists", container("db")]).returncode == 1
    stack("up", rebuild=False)
    assert psql("SELECT count(*) FROM osm_roads") == "14233"
    assert psql("SELECT count(*) FROM pipelines WHERE name = 'oslo'") == "1"
    assert requests.get(BASE + OSLO_TILE, timeout=10).status_code == 200
