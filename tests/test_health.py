"""/livez and /readyz, as the compose healthchecks and a load balancer use them."""

import time

import orjson

from matching_and_import_db.workers import beat
from tests.conftest import make_app


def test_livez_answers_while_the_process_is_up(client):
    resp = client.get("/livez")
    assert resp.status_code == 200
    assert resp.json == {"status": "ok"}


def test_readyz_is_503_without_a_scheduler_heartbeat_and_says_why(client):
    resp = client.get("/readyz")
    assert resp.status_code == 503
    checks = resp.json["checks"]
    assert checks["database"]["ok"] and checks["redis"]["ok"]
    assert checks["scheduler"] == {"ok": False, "heartbeat_age_seconds": None, "worker": None}


def test_readyz_is_ready_with_a_fresh_heartbeat_and_not_with_a_stale_one(client, redis):
    beat(redis, "host:1", ttl_seconds=60)
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json["status"] == "ready"
    assert ready.json["checks"]["scheduler"]["worker"] == "host:1"
    assert ready.json["checks"]["database"]["revision"] == ready.json["checks"]["database"]["head"]

    # a process that hung (alive, key not yet expired, but no beat for an hour)
    redis.set("scheduler:heartbeat:host:1",
              orjson.dumps({"worker": "host:1", "at": time.time() - 3600}))
    assert client.get("/readyz").status_code == 503


def test_readyz_reports_an_unreachable_redis_as_degraded(settings_env):
    client = make_app({**settings_env, "PORTAL_REDIS_URL": "redis://127.0.0.1:1/0"}).test_client()
    resp = client.get("/readyz")
    assert resp.status_code == 200  # the app serves what PostgreSQL alone can
    assert resp.json["status"] == "degraded"
    assert resp.json["checks"]["redis"]["ok"] is False
    assert "Connection" in resp.json["checks"]["redis"]["error"]
    assert any("tile cache bypassed" in line for line in resp.json["degraded"])


def test_readyz_turns_ready_when_a_scheduler_process_runs(client, start_scheduler):
    assert client.get("/readyz").status_code == 503
    scheduler = start_scheduler()
    from tests.conftest import wait_until
    wait_until(lambda: client.get("/readyz").status_code == 200, 30,
               message="the scheduler's heartbeat")
    assert scheduler.stop() == 0
    assert client.get("/readyz").status_code == 503  # it removes its heartbeat on exit
