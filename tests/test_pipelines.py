"""Pipelines as operators use them: the page, run now, the banner with phase and ETA."""

import html
import time
from datetime import UTC

import pytest

from matching_and_import_db.pipelines.progress import Progress, ProgressReporter, active_runs
from matching_and_import_db.pipelines.runner import enqueue_due_runs, phase_history
from tests.conftest import FIXTURES, csrf_token, login
from tests.osm_helpers import gen_pipeline, run_inline

BOEBLINGEN = FIXTURES / "osm" / "boeblingen-minimal.osm.pbf"


@pytest.fixture
def operator(client, oidc_provider):
    login(client, oidc_provider, "olga", ["operator"])
    return client


def test_operator_page_lists_pipelines_with_schedule_and_recent_runs(operator, settings_env,
                                                                     db_conn):
    pipeline = gen_pipeline(db_conn, "boeblingen", str(BOEBLINGEN), schedule="0 3 * * *")
    run_inline(settings_env, pipeline)
    page = operator.get("/pipelines").data.decode()
    assert "boeblingen" in page and "0 3 * * *" in page
    assert "succeeded" in page and "roads inserted" in page
    assert "03:00:00 UTC" in page  # next run


def test_run_now_queues_one_run_even_when_clicked_twice(operator, db_conn):
    pipeline = gen_pipeline(db_conn, "boeblingen", str(BOEBLINGEN))
    token = csrf_token(operator, "/pipelines")
    for _ in range(2):
        resp = operator.post(f"/pipelines/{pipeline}/run", data={"csrf_token": token})
        assert resp.status_code == 302
    runs = operator.get(f"/api/pipelines/{pipeline}/runs").json["runs"]
    assert [(r["status"], r["trigger"]) for r in runs] == [("queued", "manual")]


def test_run_now_without_csrf_token_is_refused(operator, db_conn):
    pipeline = gen_pipeline(db_conn, "boeblingen", str(BOEBLINGEN))
    assert operator.post(f"/pipelines/{pipeline}/run").status_code == 400
    assert operator.get(f"/api/pipelines/{pipeline}/runs").json["runs"] == []


def test_a_plain_user_gets_404_for_the_operator_pages(client, oidc_provider, db_conn):
    pipeline = gen_pipeline(db_conn, "boeblingen", str(BOEBLINGEN))
    login(client, oidc_provider, "ulla", ["user"])
    assert client.get("/pipelines").status_code == 404
    assert client.get(f"/api/pipelines/{pipeline}/runs").status_code == 404
    token = csrf_token(client)
    assert client.post(f"/pipelines/{pipeline}/run", data={"csrf_token": token}).status_code == 404


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"name": "Bad Name!", "kind": "osm_import", "source": "x.pbf"}, "pipeline name"),
        ({"name": "ok", "kind": "osm_import", "source": "x.pbf", "schedule": "every day"},
         "neither a crontab line"),
        ({"name": "ok", "kind": "nope", "source": "x.pbf"}, "unknown pipeline kind"),
        ({"name": "ok", "kind": "osm_import", "source": " "}, "needs a 'source'"),
    ],
)
def test_creating_a_pipeline_with_bad_input_says_what_is_wrong(operator, db_conn, form, message):
    resp = operator.post("/pipelines", data={**form, "csrf_token": csrf_token(operator)})
    assert resp.status_code == 400
    assert message in html.unescape(resp.data.decode())
    assert operator.get("/api/pipelines").json["pipelines"] == []


def test_creating_a_pipeline_from_the_page(operator):
    resp = operator.post("/pipelines", data={"name": "oslo", "kind": "osm_import",
                                             "source": "/data/oslo.osm.pbf",
                                             "schedule": "@every 6h",
                                             "csrf_token": csrf_token(operator)})
    assert resp.status_code == 302
    [pipeline] = operator.get("/api/pipelines").json["pipelines"]
    assert (pipeline["name"], pipeline["schedule"], pipeline["config"]) == (
        "oslo", "@every 6h", {"source": "/data/oslo.osm.pbf"})
    again = operator.post("/pipelines", data={"name": "oslo", "kind": "osm_import",
                                              "source": "x", "csrf_token": csrf_token(operator)})
    assert again.status_code == 409


def test_banner_api_shows_phase_items_elapsed_and_eta(client, redis):
    progress = Progress(run_id=7, pipeline="oslo", phases=["fetch", "stage", "publish"],
                        started_at=time.time() - 30, history={"fetch": 1.0, "stage": 20.0,
                                                              "publish": 4.0})
    reporter = ProgressReporter(redis, progress, ttl_seconds=60, min_interval=0)
    reporter.enter_phase("stage")
    progress.phase_started_at = time.time() - 10
    reporter.items(500, 1000)
    [run] = client.get("/api/pipelines/active").json["active"]
    assert (run["pipeline"], run["phase"], run["phase_index"], run["phase_count"]) == (
        "oslo", "stage", 2, 3)
    assert (run["done"], run["total"]) == (500, 1000)
    assert 29 <= run["elapsed_seconds"] <= 33
    # half the items took 10 s, so 10 s remain here, plus 4 s for publishing, as before
    assert 13 <= run["eta_seconds"] <= 14.5
    reporter.clear()
    assert client.get("/api/pipelines/active").json["active"] == []


def test_eta_is_unknown_on_a_first_run_without_item_totals(redis):
    progress = Progress(run_id=1, pipeline="new", phases=["fetch", "stage"],
                        started_at=time.time())
    ProgressReporter(redis, progress, ttl_seconds=60).enter_phase("fetch")
    [run] = active_runs(redis)
    assert run["eta_seconds"] is None


def test_phase_history_comes_from_earlier_successful_runs(settings_env, db_conn):
    pipeline = gen_pipeline(db_conn, "boeblingen", str(BOEBLINGEN))
    assert phase_history(db_conn, pipeline) == {}
    for _ in range(2):
        run_inline(settings_env, pipeline)
    history = phase_history(db_conn, pipeline)
    assert set(history) == {"fetch", "stage", "publish"}
    assert all(v >= 0 for v in history.values())


def test_banner_is_on_every_page(client):
    page = client.get("/").data.decode()
    assert 'id="update-banner"' in page and "banner.js" in page


def test_due_schedule_queues_one_run_and_coalesces_missed_slots(db_conn):
    from datetime import datetime, timedelta
    pipeline = gen_pipeline(db_conn, "hourly", str(BOEBLINGEN), schedule="0 * * * *")
    with db_conn.cursor() as cur:
        cur.execute("UPDATE pipelines SET created_at = now() - interval '5 hours'")
    db_conn.commit()
    now = datetime.now(UTC)
    first = enqueue_due_runs(db_conn, now)
    assert len(first) == 1
    assert enqueue_due_runs(db_conn, now) == []  # the same slot, asked again
    assert enqueue_due_runs(db_conn, now + timedelta(hours=2)) == []  # still queued: coalesced
    with db_conn.cursor() as cur:
        cur.execute("SELECT scheduled_for FROM pipeline_runs WHERE pipeline_id = %s",
                    (pipeline,))
        [(slot,)] = cur.fetchall()
    db_conn.commit()
    assert slot.minute == 0 and slot.second == 0 and slot <= now


def test_a_stops_import_with_a_column_mapping_is_configured_from_the_page(operator):
    mapping = '{"format": "csv", "mapping": {"id": "code", "name": "name", "lat": "y", "lon": "x"}}'
    resp = operator.post("/pipelines", data={"name": "registry", "kind": "stops_import",
                                             "source": "/data/stops.csv", "config": mapping,
                                             "csrf_token": csrf_token(operator)})
    assert resp.status_code == 302
    [pipeline] = operator.get("/api/pipelines").json["pipelines"]
    assert pipeline["config"] == {"source": "/data/stops.csv", "format": "csv",
                                  "mapping": {"id": "code", "name": "name", "lat": "y",
                                              "lon": "x"}}
    bad = operator.post("/pipelines", data={"name": "other", "kind": "stops_import",
                                            "source": "/x.csv", "config": "{format: csv",
                                            "csrf_token": csrf_token(operator)})
    assert bad.status_code == 400 and "not valid JSON" in html.unescape(bad.data.decode())
