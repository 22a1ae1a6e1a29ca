"""The state of every component, for the admin health page: each check a plain function of
plain inputs returning a Component, all run at once with a deadline, so the page answers
when a component hangs (that check says "timed out"; its thread is left to finish alone).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import UTC
from urllib.parse import urlsplit

import orjson

from matching_and_import_db import workers
from matching_and_import_db.schema import schema_status
from matching_and_import_db.sqlfiles import fetch_as, load_sql

OK, WARNING, FAILED, OFF = "ok", "warning", "failed", "off"


@dataclass(frozen=True)
class Component:
    name: str
    state: str                     # ok | warning | failed | off (not configured)
    summary: str
    detail: dict = field(default_factory=dict)


def _failed(name: str, exc: BaseException) -> Component:
    return Component(name, FAILED, f"{type(exc).__name__}: {exc}"[:300])


def run_checks(checks: dict[str, Callable[[], Component | list[Component]]],
               timeout: float) -> list[Component]:
    """Every check at once; one not done within `timeout` seconds is reported timed out."""
    pool = ThreadPoolExecutor(max_workers=len(checks), thread_name_prefix="health")
    futures = {name: pool.submit(check) for name, check in checks.items()}
    wait(futures.values(), timeout=timeout)
    pool.shutdown(wait=False)  # a hung check must not hold the page
    found: list[Component] = []
    for name, future in futures.items():
        if not future.done():
            found.append(Component(name, FAILED, f"timed out after {timeout:g} s"))
        elif future.exception() is not None:
            found.append(_failed(name, future.exception()))
        else:
            result = future.result()
            found.extend(result if isinstance(result, list) else [result])
    return found


# --- PostgreSQL: reachable and at head, the pipelines' last runs, the queues ---------------

@dataclass(frozen=True)
class LastRun:
    pipeline: str
    kind: str
    run_id: int
    status: str
    trigger: str
    created_at: object
    finished_at: object
    message: str | None


@dataclass(frozen=True)
class Queues:
    rides_queued: int
    rides_processing: int
    rides_error: int
    runs_queued: int
    runs_running: int


def connect(dsn: str, timeout: float):
    """A short-lived connection whose connect and every statement of its first transaction
    give up after about `timeout` seconds (not the web process's pool, which a hung
    database would exhaust)."""
    import psycopg2
    conn = psycopg2.connect(dsn, connect_timeout=max(1, round(timeout)))
    with conn.cursor() as cur:
        cur.execute(load_sql("matching_and_import_db.monitoring", "statement_timeout.sql"),
                    {"milliseconds": str(max(1, int(timeout * 1000)))})
    return conn


def check_database(dsn: str, timeout: float, pool: dict | None = None) -> list[Component]:
    """database, pipelines and queues, read over one connection of its own."""
    started = time.monotonic()
    conn = connect(dsn, timeout)
    try:
        schema = schema_status(conn)
        took = round(time.monotonic() - started, 3)
        detail = {"revision": sorted(schema.current), "head": sorted(schema.heads),
                  "seconds": took, "pool": pool}
        database = (Component("database", OK, "reachable, schema at head", detail)
                    if schema.at_head else
                    Component("database", FAILED, "schema behind the code: run the migrator",
                              detail))
        with conn.cursor() as cur:
            cur.execute(load_sql("matching_and_import_db.monitoring", "last_runs.sql"),
                        {"limit": 50})
            runs = fetch_as(cur, LastRun)
            cur.execute(load_sql("matching_and_import_db.monitoring", "queues.sql"))
            queues = fetch_as(cur, Queues)[0]
        conn.rollback()
    finally:
        conn.close()
    return [database, pipelines_component(runs), queues_component(queues)]


def pipelines_component(runs: list[LastRun]) -> Component:
    failed = [r for r in runs if r.status == "failed"]
    detail = {"last_runs": [dict(r.__dict__, created_at=_iso(r.created_at),
                                 finished_at=_iso(r.finished_at)) for r in runs]}
    if not runs:
        return Component("pipelines", OK, "no runs yet", detail)
    if failed:
        return Component("pipelines", WARNING,
                         f"{len(failed)} of {len(runs)} pipelines failed their last run: "
                         + ", ".join(r.pipeline for r in failed), detail)
    return Component("pipelines", OK, f"{len(runs)} pipelines, every last run fine", detail)


def queues_component(q: Queues) -> Component:
    summary = (f"rides: {q.rides_queued} queued, {q.rides_processing} processing, "
               f"{q.rides_error} in error; pipeline runs: {q.runs_queued} queued, "
               f"{q.runs_running} running")
    return Component("queues", OK, summary, dict(q.__dict__))


def _iso(value) -> str | None:
    return value.astimezone(UTC).isoformat() if value is not None else None


# --- Redis and the scheduler processes' heartbeats -----------------------------------------

def check_redis_and_schedulers(redis, heartbeat_max_age: float) -> list[Component]:
    started = time.monotonic()
    redis.ping()
    info = redis.info("memory")
    redis_ok = Component("redis", OK, "reachable",
                         {"seconds": round(time.monotonic() - started, 3),
                          "used_memory": info.get("used_memory_human")})
    return [redis_ok, schedulers_component(redis, heartbeat_max_age)]


def scheduler_processes(redis, heartbeat_max_age: float, now: float | None = None) -> list[dict]:
    """Every scheduler process known: those with a heartbeat, and those that beat once and
    went without saying goodbye (their liveness key gone, their "beats" key still there)."""
    now = time.time() if now is None else now
    names: set[str] = set()
    for prefix in (workers.HEARTBEAT_PREFIX, workers.BEATS_PREFIX):
        for key in redis.scan_iter(match=prefix + "*", count=100):
            names.add(key.decode().removeprefix(prefix))
    processes = []
    for name in sorted(names):
        raw = redis.get(workers.HEARTBEAT_PREFIX + name)
        at = orjson.loads(raw)["at"] if raw else None
        age = None if at is None else round(now - at, 1)
        alive = bool(redis.exists(workers.ALIVE_PREFIX + name))
        fresh = age is not None and age <= heartbeat_max_age
        beats = bool(redis.exists(workers.BEATS_PREFIX + name))
        processes.append({"worker": name, "heartbeat_age_seconds": age,
                          "alive": alive or not beats, "ok": fresh and (alive or not beats)})
    return processes


def schedulers_component(redis, heartbeat_max_age: float) -> Component:
    processes = scheduler_processes(redis, heartbeat_max_age)
    detail = {"processes": processes, "heartbeat_max_age_seconds": heartbeat_max_age}
    live = [p for p in processes if p["ok"]]
    down = [p for p in processes if not p["ok"]]
    if not live:
        return Component("scheduler", FAILED,
                         "no scheduler process with a fresh heartbeat"
                         + (f" ({len(down)} stopped beating)" if down else ""), detail)
    if down:
        return Component("scheduler", WARNING,
                         f"{len(live)} running, {len(down)} stopped beating: "
                         + ", ".join(p["worker"] for p in down), detail)
    return Component("scheduler", OK, f"{len(live)} process(es) beating", detail)


# --- the MQTT broker and the OIDC issuer ------------------------------------------------------

def check_broker(url: str, timeout: float) -> Component:
    """An MQTT CONNECT to the broker and its CONNACK, within `timeout` seconds."""
    import paho.mqtt.client as mqtt
    if not url:
        return Component("broker", OFF, "no sensor subscriber configured (PORTAL_MQTT_TOPICS)")
    parts = urlsplit(url)
    host, port = parts.hostname or "", parts.port or 1883
    started = time.monotonic()
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2,
                         client_id=f"portal-health-{uuid.uuid4().hex[:12]}",
                         protocol=mqtt.MQTTv311)
    client.connect_timeout = timeout
    answer: dict = {}
    client.on_connect = lambda _c, _u, _flags, reason, _props: answer.update(reason=reason)
    try:
        client.connect(host, port, keepalive=max(5, int(timeout) + 1))
        deadline = started + timeout
        while "reason" not in answer and time.monotonic() < deadline:
            client.loop(timeout=0.05)
    except OSError as exc:
        return Component("broker", FAILED, f"{host}:{port}: {type(exc).__name__}: {exc}")
    finally:
        try:
            client.disconnect()
        except Exception:
            pass
    detail = {"broker": f"{host}:{port}", "seconds": round(time.monotonic() - started, 3)}
    if "reason" not in answer:
        return Component("broker", FAILED,
                         f"{host}:{port}: no MQTT answer within {timeout:g} s", detail)
    if answer["reason"].is_failure:
        return Component("broker", FAILED, f"{host}:{port} refused: {answer['reason']}", detail)
    return Component("broker", OK, f"{host}:{port} accepts MQTT connections", detail)


def check_issuer(issuer: str, timeout: float) -> Component:
    """The issuer's discovery document answers and names the issuer."""
    import requests
    if not issuer:
        return Component("oidc", OFF, "no OpenID Connect issuer configured")
    url = issuer.rstrip("/") + "/.well-known/openid-configuration"
    started = time.monotonic()
    try:
        resp = requests.get(url, timeout=(timeout, timeout))
    except requests.RequestException as exc:
        return Component("oidc", FAILED, f"{url}: {type(exc).__name__}")
    detail = {"discovery": url, "status": resp.status_code,
              "seconds": round(time.monotonic() - started, 3)}
    if resp.status_code != 200:
        return Component("oidc", FAILED, f"{url} answered {resp.status_code}", detail)
    try:
        doc = resp.json()
    except ValueError:
        return Component("oidc", FAILED, f"{url} did not answer JSON", detail)
    if not isinstance(doc, dict) or doc.get("issuer", "").rstrip("/") != issuer.rstrip("/"):
        return Component("oidc", FAILED, f"{url} names another issuer", detail)
    return Component("oidc", OK, "discovery document answers", detail)


def overall(components: list[Component]) -> str:
    states = {c.state for c in components}
    return FAILED if FAILED in states else WARNING if WARNING in states else OK
