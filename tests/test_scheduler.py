"""The scheduler as operators run it: separate processes, real Redis locks, real kills."""

import re
import signal
import subprocess
import sys

import orjson
import psycopg2

from matching_and_import_db.pipelines.progress import KEY_PREFIX
from matching_and_import_db.pipelines.runner import request_run
from tests.conftest import FIXTURES, OSLO_PBF, ROOT, recreate_database, wait_until
from tests.osm_helpers import gen_pipeline, published_fingerprint, run_inline, run_row

BOEBLINGEN = FIXTURES / "osm" / "boeblingen-minimal.osm.pbf"


def wait_for_run(conn, run_id, timeout=60, statuses=("succeeded", "failed")):
    return wait_until(lambda: (r := run_row(conn, run_id))["status"] in statuses and r,
                      timeout, interval=0.2, message=f"run {run_id} to reach {statuses}")


def test_osm_import_runs_in_the_scheduler_and_sigterm_exits_cleanly(start_scheduler, db_conn,
                                                                    redis):
    pipeline = gen_pipeline(db_conn, "oslo", str(OSLO_PBF))
    run_id = request_run(db_conn, pipeline)
    scheduler = start_scheduler()
    run = wait_for_run(db_conn, run_id)
    assert run["status"] == "succeeded", run["message"]
    assert run["counts"]["roads_inserted"] == 14233
    assert run["worker"].endswith(f":{scheduler.pid}")
    assert set(run["phase_seconds"]) == {"fetch", "stage", "publish"}
    assert redis.get(KEY_PREFIX + "oslo") is None  # the banner is gone once it finished
    assert scheduler.stop() == 0
    assert "stopped" in scheduler.log()


def test_two_schedulers_execute_each_queued_run_exactly_once(start_scheduler, db_conn):
    pipelines = {f"area-{i}": gen_pipeline(db_conn, f"area-{i}", str(BOEBLINGEN))
                 for i in range(6)}
    run_ids = {request_run(db_conn, pid): name for name, pid in pipelines.items()}
    first, second = start_scheduler(), start_scheduler()
    for run_id in run_ids:
        assert wait_for_run(db_conn, run_id)["status"] == "succeeded"
    assert first.stop() == 0 and second.stop() == 0

    executions = re.findall(r"run (\d+) of (\S+) succeeded", first.log() + second.log())
    assert sorted(int(r) for r, _ in executions) == sorted(run_ids)  # each once, none twice
    for run_id in run_ids:
        published = [line for line in run_row(db_conn, run_id)["log"]
                     if line["msg"].startswith("published")]
        assert len(published) == 1


def test_two_schedulers_turn_each_schedule_slot_into_one_run_and_never_overlap(
        start_scheduler, db_conn):
    pipeline = gen_pipeline(db_conn, "frequent", str(BOEBLINGEN), schedule="@every 2s")
    first, second = start_scheduler(), start_scheduler()
    # the schedule's window is counted from when both run (starting takes seconds on a
    # busy machine)
    wait_until(lambda: all("starting with jobs" in p.log() for p in (first, second)), 60,
               message="both schedulers to start")
    # three slots' runs, however long each takes on a busy machine, before the schedule stops
    wait_until(lambda: _count(db_conn, "status = 'succeeded'") >= 3, 120,
               message="three scheduled runs to succeed")
    with db_conn.cursor() as cur:
        cur.execute("UPDATE pipelines SET enabled = false WHERE id = %s", (pipeline,))
    db_conn.commit()
    wait_until(lambda: _count(db_conn, "status IN ('queued', 'running')") == 0, 30,
               message="the last runs to finish")
    assert first.stop() == 0 and second.stop() == 0

    with db_conn.cursor() as cur:
        cur.execute("SELECT id, scheduled_for, started_at, finished_at, status "
                    "FROM pipeline_runs ORDER BY started_at")
        runs = cur.fetchall()
    db_conn.commit()
    assert len(runs) >= 3
    slots = [r[1] for r in runs]
    assert len(set(slots)) == len(slots)
    assert all(s.timestamp() % 2 == 0 for s in slots)  # slots on the schedule's grid
    assert {r[4] for r in runs} == {"succeeded"}
    for earlier, later in zip(runs, runs[1:], strict=False):
        assert earlier[3] <= later[2], "two runs of one pipeline overlapped"
    executions = re.findall(r"run (\d+) of frequent succeeded", first.log() + second.log())
    assert sorted(int(r) for r in executions) == sorted(r[0] for r in runs)


def _count(conn, where):
    with conn.cursor() as cur:
        cur.execute(f"SELECT count(*) FROM pipeline_runs WHERE {where}")
        n = cur.fetchone()[0]
    conn.commit()
    return n


def test_killing_a_scheduler_mid_import_keeps_published_data_and_the_next_run_succeeds(
        settings_env, start_scheduler, db_conn, redis):
    baseline = gen_pipeline(db_conn, "baseline", str(BOEBLINGEN))
    assert run_inline(settings_env, baseline)["status"] == "succeeded"
    before = published_fingerprint(db_conn)

    oslo = gen_pipeline(db_conn, "oslo", str(OSLO_PBF))
    run_id = request_run(db_conn, oslo)
    victim = start_scheduler()

    def staging():
        raw = redis.get(KEY_PREFIX + "oslo")
        return raw is not None and orjson.loads(raw)["phase"] == "stage"

    wait_until(staging, 90, interval=0.005, message="the import to reach its stage phase")
    victim.kill()  # SIGKILL: no cleanup, no goodbye

    assert run_row(db_conn, run_id)["status"] == "running"
    assert published_fingerprint(db_conn) == before

    survivor = start_scheduler()
    abandoned = wait_for_run(db_conn, run_id, timeout=40)
    assert abandoned["status"] == "failed"
    assert "abandoned" in abandoned["message"] and "stage" in abandoned["message"]
    assert published_fingerprint(db_conn) == before

    retry = wait_for_run(db_conn, request_run(db_conn, oslo))
    assert retry["status"] == "succeeded", retry["message"]
    assert retry["counts"]["roads_read"] == 14233
    assert published_fingerprint(db_conn)[0] == 14233
    assert survivor.stop() == 0


def test_sigterm_lets_the_running_import_finish_before_exiting(start_scheduler, db_conn,
                                                               redis):
    run_id = request_run(db_conn, gen_pipeline(db_conn, "oslo", str(OSLO_PBF)))
    scheduler = start_scheduler()
    wait_until(lambda: redis.get(KEY_PREFIX + "oslo"), 30, interval=0.005,
               message="the import to start")
    scheduler.proc.send_signal(15)
    assert scheduler.stop() == 0
    assert run_row(db_conn, run_id)["status"] == "succeeded"


def _catches_sigterm(pid: int) -> bool:
    status = open(f"/proc/{pid}/status").read()
    caught = int(re.search(r"^SigCgt:\s*([0-9a-f]+)$", status, re.M).group(1), 16)
    return bool(caught & (1 << (signal.SIGTERM - 1)))


def test_sigterm_while_the_scheduler_starts_up_is_a_clean_stop(start_scheduler, db_conn):
    """An orchestrator may stop a container that is still starting: that is a stop with
    exit code 0, not a kill. The schema check is held up by a lock on the version table,
    so the signal surely comes while the process starts."""
    with db_conn.cursor() as cur:
        cur.execute("LOCK TABLE alembic_version IN ACCESS EXCLUSIVE MODE")
    scheduler = start_scheduler()
    wait_until(lambda: _catches_sigterm(scheduler.pid), 60,
               message="the starting scheduler to handle SIGTERM")
    scheduler.proc.send_signal(signal.SIGTERM)
    db_conn.rollback()  # the schema check goes on, then sees the stop
    assert scheduler.stop() == 0, scheduler.log()


def test_scheduler_and_app_refuse_an_unmigrated_database(settings_env):
    url = settings_env["PORTAL_DATABASE_URL"].rsplit("/", 1)[0] + "/portal_test_unmigrated"
    recreate_database(url, None)
    env = {**settings_env, "PORTAL_DATABASE_URL": url}
    result = subprocess.run([sys.executable, "-m", "scheduler"], env=env, cwd=ROOT,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert "run the migrator" in result.stderr

    app = subprocess.run([sys.executable, "-c", "from app import create_app; create_app()"],
                         env=env, cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert app.returncode != 0
    assert "run the migrator" in app.stderr
    conn = psycopg2.connect(settings_env["PORTAL_DATABASE_URL"])
    conn.autocommit = True
    conn.cursor().execute("DROP DATABASE portal_test_unmigrated")
    conn.close()
