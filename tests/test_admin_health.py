"""The admin health page: every component with its state, a failing one shown as failing
while the page still answers, and non-admins kept out."""

import socket
import threading
import time

import orjson
import pytest

from matching_and_import_db.monitoring import health
from matching_and_import_db.pipelines.runner import request_run
from matching_and_import_db.workers import BEATS_PREFIX, HEARTBEAT_PREFIX, beat, mark_alive
from tests.conftest import free_port, login, make_app
from tests.osm_helpers import gen_pipeline


@pytest.fixture
def admin(client, oidc_provider):
    login(client, oidc_provider, "root", roles=["admin"])
    return client


SENSOR_TOPICS = "v3/+/devices/+/up"  # a sensor subscriber is configured: the broker matters


@pytest.fixture
def admin_of(settings_env, oidc_provider):
    """An admin's client of an app with these settings: logged in through the real provider
    on a normal app, the same session cookie (signed with the same secret) on this one."""
    good = make_app(settings_env).test_client()
    login(good, oidc_provider, "root", roles=["admin"])

    def client_of(**overrides):
        client = make_app(settings_env, **overrides).test_client()
        client.set_cookie("session", good.get_cookie("session").value)
        return client
    return client_of


@pytest.fixture
def silent_server():
    """A TCP port that accepts connections (the kernel's backlog) and never answers: a
    component that hangs."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    yield sock.getsockname()[1]
    sock.close()


def components(body: dict) -> dict[str, dict]:
    return {c["name"]: c for c in body["components"]}


def test_an_admin_sees_every_component_healthy(admin_of, redis, db_conn):
    admin = admin_of(mqtt_topics=SENSOR_TOPICS)
    beat(redis, "host-a:1", ttl_seconds=60)
    mark_alive(redis, "host-a:1")
    request_run(db_conn, gen_pipeline(db_conn, "oslo", "oslo.osm.pbf"))

    body = admin.get("/api/admin/health").json
    found = components(body)
    assert set(found) == {"database", "pipelines", "queues", "redis", "scheduler", "broker",
                          "oidc"}
    assert body["status"] == "ok", [c for c in body["components"] if c["state"] != "ok"]
    assert found["database"]["detail"]["revision"] == found["database"]["detail"]["head"]
    assert found["database"]["detail"]["pool"]["size"] >= 1
    assert found["scheduler"]["detail"]["processes"][0]["worker"] == "host-a:1"
    assert found["queues"]["detail"]["runs_queued"] == 1
    assert found["broker"]["summary"] == "127.0.0.1:1883 accepts MQTT connections"

    page = admin.get("/admin/health")
    assert page.status_code == 200
    assert b'id="component-broker" class="state-ok"' in page.data
    assert b"host-a:1: heartbeat" in page.data


def test_a_wrong_broker_port_and_a_hanging_issuer_are_failures_the_page_still_answers(
        admin_of, silent_server):
    closed = free_port()
    broken = admin_of(mqtt_topics=SENSOR_TOPICS, mqtt_url=f"mqtt://127.0.0.1:{closed}",
                      oidc_issuer=f"http://127.0.0.1:{silent_server}",
                      health_check_timeout_seconds=1.0)

    resp = broken.get("/api/admin/health")
    assert resp.status_code == 200
    found = components(resp.json)
    assert resp.json["status"] == "failed"
    assert found["broker"]["state"] == "failed"
    assert f"127.0.0.1:{closed}: ConnectionRefusedError" in found["broker"]["summary"]
    assert found["oidc"]["state"] == "failed"
    assert "Timeout" in found["oidc"]["summary"]
    assert found["database"]["state"] == "ok"  # the others are still checked

    page = broken.get("/admin/health")
    assert page.status_code == 200
    assert b'id="component-oidc" class="state-failed"' in page.data


def test_without_a_sensor_subscriber_the_broker_is_off_and_not_a_failure(admin, redis):
    beat(redis, "host-a:1", ttl_seconds=60)
    body = admin.get("/api/admin/health").json
    broker = components(body)["broker"]
    assert (broker["state"], broker["summary"]) == (
        "off", "no sensor subscriber configured (PORTAL_MQTT_TOPICS)")
    assert body["status"] == "ok"


def test_a_broker_that_accepts_but_never_answers_mqtt_is_reported(silent_server):
    found = health.check_broker(f"mqtt://127.0.0.1:{silent_server}", timeout=0.5)
    assert found.state == "failed"
    assert found.summary == f"127.0.0.1:{silent_server}: no MQTT answer within 0.5 s"


def test_a_check_that_hangs_past_the_deadline_is_reported_timed_out():
    release = threading.Event()
    try:
        found = health.run_checks({
            "stuck": lambda: release.wait(60) and health.Component("stuck", "ok", "late"),
            "quick": lambda: health.Component("quick", "ok", "fine")}, timeout=0.2)
    finally:
        release.set()
    assert {c.name: (c.state, c.summary) for c in found} == {
        "stuck": ("failed", "timed out after 0.2 s"), "quick": ("ok", "fine")}


def test_a_scheduler_that_stopped_beating_is_listed_beside_the_live_one(admin, redis):
    beat(redis, "host-a:1", ttl_seconds=60)
    mark_alive(redis, "host-a:1")
    # host-b:2 hung an hour ago: its heartbeat key lives on but its "at" is old, its
    # liveness key expired
    redis.set(HEARTBEAT_PREFIX + "host-b:2",
              orjson.dumps({"worker": "host-b:2", "at": time.time() - 3600}))
    redis.set(BEATS_PREFIX + "host-b:2", b"1")
    # host-c:3 was killed: heartbeat and liveness expired, only "it beats" is left
    redis.set(BEATS_PREFIX + "host-c:3", b"1")

    scheduler = components(admin.get("/api/admin/health").json)["scheduler"]
    assert scheduler["state"] == "warning"
    assert scheduler["summary"] == "1 running, 2 stopped beating: host-b:2, host-c:3"
    by_worker = {p["worker"]: p for p in scheduler["detail"]["processes"]}
    assert by_worker["host-a:1"]["ok"] is True
    assert by_worker["host-b:2"]["ok"] is False
    assert by_worker["host-b:2"]["heartbeat_age_seconds"] >= 3600
    assert by_worker["host-c:3"] == {"worker": "host-c:3", "heartbeat_age_seconds": None,
                                     "alive": False, "ok": False}

    redis.delete(HEARTBEAT_PREFIX + "host-a:1")
    assert components(admin.get("/api/admin/health").json)["scheduler"]["state"] == "failed"


def test_failed_pipeline_runs_come_first_with_their_message(admin, db_conn):
    failing = gen_pipeline(db_conn, "broken", "/etc/passwd")
    fine = gen_pipeline(db_conn, "queued-one", "oslo.osm.pbf")
    request_run(db_conn, fine)
    run_id = request_run(db_conn, failing)
    with db_conn.cursor() as cur:
        cur.execute("UPDATE pipeline_runs SET status = 'failed', finished_at = now(), "
                    "message = 'outside the import directory' WHERE id = %s", (run_id,))
        cur.execute("UPDATE pipeline_runs SET created_at = now() + interval '1 minute' "
                    "WHERE pipeline_id = %s", (fine,))
    db_conn.commit()

    pipelines = components(admin.get("/api/admin/health").json)["pipelines"]
    assert pipelines["state"] == "warning"
    assert pipelines["summary"] == "1 of 2 pipelines failed their last run: broken"
    assert [(r["pipeline"], r["status"]) for r in pipelines["detail"]["last_runs"]] == [
        ("broken", "failed"), ("queued-one", "queued")]
    assert b"outside the import directory" in admin.get("/admin/health").data


@pytest.mark.parametrize("path, anonymous", [("/admin/health", 302),
                                             ("/api/admin/health", 401)])
def test_only_admins_see_the_health_page(client, oidc_provider, path, anonymous):
    resp = client.get(path)
    assert resp.status_code == anonymous
    if anonymous == 302:
        assert "/login" in resp.headers["Location"]
    login(client, oidc_provider, "ops", roles=["operator"])
    assert client.get(path).status_code == 404


def test_without_redis_the_page_still_answers_and_says_what_it_cannot_read(admin_of):
    without = admin_of(redis_url=f"redis://127.0.0.1:{free_port()}/0",
                       health_check_timeout_seconds=1.0)

    resp = without.get("/api/admin/health")
    assert resp.status_code == 200
    found = components(resp.json)
    assert found["redis"]["state"] == "failed"
    assert "ConnectionError" in found["redis"]["summary"]
    assert found["database"]["state"] == "ok"
    assert resp.json["errors"]["state"] == "failed"  # the stream lives in Redis
    page = without.get("/admin/health")
    assert page.status_code == 200
    assert b"Errors cannot be read" in page.data


def test_the_database_checks_work_through_pgbouncer_in_transaction_pooling(admin_of,
                                                                            pgbouncer):
    body = admin_of(database_url=pgbouncer.url).get("/api/admin/health").json
    found = components(body)
    assert found["database"]["state"] == "ok", found["database"]
    assert found["queues"]["state"] == "ok"
    assert body["usage"]["state"] == "ok", body["usage"]
