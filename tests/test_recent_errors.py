"""Errors of every process on the admin health page: collected in Redis by the logging
setup each process runs, never blocking when Redis is away, and the rate-jump warning."""

import logging
import subprocess
import sys
import time

import pytest

from matching_and_import_db.monitoring import errors
from matching_and_import_db.monitoring.errors import ErrorEntry, RecentErrorsHandler
from matching_and_import_db.pipelines.runner import request_run
from tests.conftest import ROOT, free_port, login, make_app, wait_until
from tests.osm_helpers import gen_pipeline


@pytest.fixture
def admin(client, oidc_provider):
    login(client, oidc_provider, "root", roles=["admin"])
    return client


def newest(admin) -> list[dict]:
    return admin.get("/api/admin/health").json["errors"]["detail"]["newest"]


def test_an_error_of_the_scheduler_process_appears_on_the_page(admin, db_conn,
                                                               start_scheduler):
    # a run the real scheduler fails: its source is outside the import directory
    run_id = request_run(db_conn, gen_pipeline(db_conn, "escape", "/etc/passwd"))
    scheduler = start_scheduler()
    entry = wait_until(
        lambda: next((e for e in newest(admin) if f"run {run_id}:" in e["message"]), None),
        90, interval=0.5, message="the scheduler's error on the health page")
    assert entry["role"] == "scheduler"
    assert entry["logger"] == "pipeline.escape"
    assert entry["process"].endswith(f":{scheduler.pid}")
    assert "outside the import directory" in entry["message"]

    # its heartbeat is shown; killed, it is shown stopped within seconds
    def scheduler_state():
        found = {c["name"]: c for c in admin.get("/api/admin/health").json["components"]}
        return found["scheduler"]
    wait_until(lambda: scheduler_state()["state"] == "ok", 30, message="a fresh heartbeat")
    scheduler.kill()
    stopped = wait_until(lambda: (s := scheduler_state())["state"] == "failed" and s, 30,
                         interval=0.5, message="the killed scheduler shown stopped")
    assert stopped["detail"]["processes"][0]["worker"].endswith(f":{scheduler.pid}")
    assert stopped["detail"]["processes"][0]["alive"] is False
    page = admin.get("/admin/health").data.decode()
    assert "outside the import directory" in page and "liveness key expired" in page


def test_an_error_logged_in_another_process_is_collected_without_its_secrets(
        admin, settings_env):
    # a process of its own running the same logging setup (as the migrator does), which
    # logs an error quoting the database URL with its password, then exits at once
    probe = (
        "import logging\n"
        "from matching_and_import_db.settings import Settings\n"
        "from matching_and_import_db.settings.logging_setup import configure_logging\n"
        "settings = Settings.from_env()\n"
        "configure_logging(settings, role='migrator')\n"
        "logging.getLogger('migrator.probe').error('cannot reach %s (key %s)',\n"
        "    settings.database_url, settings.secret_key)\n")
    result = subprocess.run([sys.executable, "-c", probe], env=settings_env, cwd=ROOT,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    # what is queued when the process exits is written before it goes
    [entry] = [e for e in newest(admin) if e["logger"] == "migrator.probe"]
    assert entry["role"] == "migrator"
    password = settings_env["PORTAL_DATABASE_URL"].split("://")[1].split("@")[0]
    password = password.partition(":")[2]
    assert password and password not in entry["message"]
    assert settings_env["PORTAL_SECRET_KEY"] not in entry["message"]
    assert entry["message"].startswith("cannot reach postgresql://")
    assert "(key ***)" in entry["message"]


def test_logging_neither_blocks_nor_fails_while_redis_is_down():
    handler = RecentErrorsHandler(f"redis://127.0.0.1:{free_port()}/0", "web")
    log = logging.getLogger("tests.redis_down")
    log.addHandler(handler)
    log.propagate = False
    try:
        for i in range(3 * errors.QUEUE_MAX):  # more than the queue holds
            log.error("failure %s", i)
    finally:
        log.removeHandler(handler)
        log.propagate = True
        handler.close()  # returns although nothing could be written
    assert handler.dropped >= errors.QUEUE_MAX


def entries_at(redis, minutes_ago_counts: dict[int, int]) -> None:
    now = time.time()
    errors.write_entries(redis, [
        ErrorEntry(at=now - ago * 60, role="web", process="h:1", logger="t", message="x")
        for ago, n in minutes_ago_counts.items() for _ in range(n)])


def minutes(counts_by_minute_ago: dict[int, int]) -> list[tuple[int, int]]:
    """Counts per minute for error_rate, oldest first, this minute (0 minutes ago) last."""
    span = errors.RECENT_MINUTES + errors.BASELINE_MINUTES
    return [(0, counts_by_minute_ago.get(ago, 0)) for ago in range(span - 1, -1, -1)]


@pytest.mark.parametrize("counts, jump", [
    ({}, False),                                   # nothing at all
    ({0: 4}, False),                               # under the minimum of 5
    ({0: 5}, True),                                # 5 in five minutes after a quiet hour
    ({1: 2, 4: 3}, True),                          # spread over the five minutes
    ({5: 3}, False),                               # six minutes ago is the hour before
    ({0: 5, **{m: 1 for m in range(5, 65)}}, False),   # 1/min against 1/min before
    ({0: 15, **{m: 1 for m in range(5, 65)}}, True),   # 3/min against 1/min: three times
    ({0: 14, **{m: 1 for m in range(5, 65)}}, False),  # 2.8/min: not yet
    ({0: 9, 64: 1, 65: 50}, True),                     # 65 minutes ago is out of the window
])
def test_the_rate_jump_rule(counts, jump):
    rate = errors.error_rate(minutes(counts))
    assert rate.jump is jump, rate


def test_the_page_warns_when_the_error_rate_jumps_and_not_for_a_steady_rate(admin, redis):
    # counts are kept per clock minute: start early in one, so the test ends in it
    wait_until(lambda: time.time() % 60 < 45, 20, interval=0.5, message="a fresh minute")
    entries_at(redis, {m: 1 for m in range(5, 65)})  # one a minute for the hour before
    entries_at(redis, {1: 4})
    body = admin.get("/api/admin/health").json["errors"]
    assert body["state"] == "ok"
    assert body["detail"]["rate"] == {"recent": 4, "baseline": 60, "recent_per_minute": 0.8,
                                      "baseline_per_minute": 1.0, "jump": False}
    assert b'id="error-rate-warning"' not in admin.get("/admin/health").data

    entries_at(redis, {0: 6, 2: 5})  # 15 in the last five minutes: 3 a minute
    body = admin.get("/api/admin/health").json["errors"]
    assert body["state"] == "warning"
    assert body["summary"] == ("error rate jumped: 15 in the last 5 min (3.0/min against "
                               "1.0/min the hour before)")
    page = admin.get("/admin/health").data.decode()
    assert 'id="error-rate-warning"' in page and "error rate jumped" in page
    # the stream keeps the newest entries, the counters every one of the hour
    assert len(body["detail"]["newest"]) == 50
    assert sum(m["errors"] for m in body["detail"]["per_minute"]) == 75


def test_an_entry_keeps_the_request_id_and_the_exception_type_but_not_its_message():
    try:
        raise ValueError("row 3 holds secret-looking data")
    except ValueError:
        record = logging.LogRecord("app.x", logging.ERROR, __file__, 1, "upload %s failed",
                                   (7,), sys.exc_info())
    record.request_id = "0123456789abcdef"
    entry = errors.entry_of(record, "web", secrets=())
    assert (entry.message, entry.request_id, entry.exception) == (
        "upload 7 failed", "0123456789abcdef", "ValueError")
    assert "secret-looking" not in repr(entry.fields())


def test_an_unexpected_error_in_a_request_is_collected_with_its_request_id(settings_env,
                                                                          admin):
    app = make_app(settings_env)
    app.testing = False  # answer 500 as in production, which logs the exception

    @app.get("/boom-for-the-test")
    def boom():
        raise RuntimeError("row 12 holds someone's address")

    resp = app.test_client().get("/boom-for-the-test",
                                 headers={"X-Request-ID": "req-0123456789"})
    assert resp.status_code == 500
    entry = wait_until(
        lambda: next((e for e in newest(admin) if e["request_id"] == "req-0123456789"), None),
        10, message="the request's error in the stream")
    assert entry["role"] == "web"
    assert entry["message"] == "Exception on /boom-for-the-test [GET]"
    assert entry["exception"] == "RuntimeError"
    assert "address" not in repr(entry)
