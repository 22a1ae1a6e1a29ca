"""/metrics: scraped with prometheus_client's own text parser after traffic on several
gunicorn workers (scripts/web.sh), the request counter is the sum over all of them; what
the database and Redis know (pipeline runs, published datasets, GBFS feeds' staleness,
MQTT messages stored and refused) is there too."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import requests
from prometheus_client.parser import text_string_to_metric_families

from matching_and_import_db.live.mqtt_subscriber import Route
from tests.conftest import free_port, wait_until
from tests.dataset_helpers import PARKING_GEOJSON, dataset_pipeline, run_dataset
from tests.gbfs_helpers import poll
from tests.sensor_helpers import (
    SENSORS,
    publish_all,
    publisher,
    running_subscriber,
    unique_prefix,
)


def scrape(url: str) -> dict[str, list]:
    resp = requests.get(url + "/metrics", timeout=10)
    assert resp.status_code == 200
    assert resp.headers["Content-Type"].startswith("text/plain")
    return {f.name: f.samples for f in text_string_to_metric_families(resp.text)}


def _livez_count(metrics: dict) -> float:
    return sum(s.value for s in metrics.get("portal_http_requests", [])
               if s.name == "portal_http_requests_total" and s.labels["route"] == "/livez"
               and s.labels["status"] == "200")


def _workers(metrics: dict) -> set[str]:
    return {s.labels["pid"] for s in metrics.get("portal_web_worker_up", []) if s.value == 1}


def test_metrics_sum_over_every_gunicorn_worker(start_web, settings_env, db_conn):
    p = dataset_pipeline(db_conn, "parking", slug="bicycle_parking", source=str(PARKING_GEOJSON))
    assert run_dataset(settings_env, p)["status"] == "succeeded"
    web = start_web(WEB_WORKERS=3, WEB_THREADS=2)
    before = _livez_count(scrape(web.url))
    sent = 0

    def one(_):
        # a connection of its own each: requests spread over the workers' accept calls
        return requests.get(web.url + "/livez", headers={"Connection": "close"},
                            timeout=10).status_code

    with ThreadPoolExecutor(12) as pool:
        for _ in range(20):  # until at least two workers have served (one batch is usual)
            assert set(pool.map(one, range(60))) == {200}
            sent += 60
            if len(_workers(scrape(web.url))) >= 2:
                break
    after = scrape(web.url)
    assert len(_workers(after)) >= 2
    assert _livez_count(after) - before == sent
    latency = {s.labels.get("le"): s.value for s in after["portal_http_request_seconds"]
               if s.name == "portal_http_request_seconds_bucket"
               and s.labels["route"] == "/livez"}
    assert latency["+Inf"] >= sent
    runs = {(s.labels["kind"], s.labels["status"]): s.value
            for s in after["portal_pipeline_runs"] if s.name == "portal_pipeline_runs_total"}
    assert runs[("dataset", "succeeded")] == 1
    features = {s.labels["dataset"]: s.value for s in after["portal_dataset_features"]}
    assert features == {"bicycle_parking": 483}


def test_the_scheduler_serves_its_jobs_metrics(start_scheduler):
    port = free_port()
    start_scheduler(PORTAL_SCHEDULER_METRICS_PORT=port)

    def heartbeat_runs() -> float:
        try:
            text = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
        except requests.RequestException:  # not listening yet
            return 0
        families = {f.name: f.samples for f in text_string_to_metric_families(text)}
        return sum(s.value for s in families.get("portal_scheduler_job_runs", [])
                   if s.name == "portal_scheduler_job_runs_total"
                   and s.labels == {"job": "heartbeat", "outcome": "ok"})

    wait_until(lambda: heartbeat_runs() >= 2, 60, interval=0.5,
               message="two heartbeat jobs counted by the scheduler's /metrics")


def _scrape_client(client) -> dict[str, dict]:
    """The test client's /metrics: {family: {labels as a tuple of values: value}}."""
    resp = client.get("/metrics")
    assert resp.status_code == 200
    return {f.name: {tuple(s.labels.values()): s.value for s in f.samples
                     if not s.name.endswith("_created")}
            for f in text_string_to_metric_families(resp.get_data(as_text=True))}


def test_metrics_show_each_gbfs_feeds_staleness(client, replay, add_feed, db_conn, redis):
    add_feed("lillestrom", f"{replay.url}/lillestrombysykkel/gbfs.json")
    add_feed("nowhere", f"{replay.url}/no-such-system/gbfs.json")
    poll(db_conn, redis, "lillestrom")
    poll(db_conn, redis, "nowhere")
    metrics = _scrape_client(client)
    assert metrics["portal_gbfs_feed_stale"] == {("lillestrom",): 0, ("nowhere",): 1}
    ages = metrics["portal_gbfs_feed_last_success_age_seconds"]
    assert ages.keys() == {("lillestrom",)}  # the other never had a good fetch
    assert 0 <= ages[("lillestrom",)] < 600

    path = "/lillestrombysykkel/station_status.json"
    replay.override(path, b"{", status=200)  # broken: the feed goes stale
    poll(db_conn, redis, "lillestrom", later_s=3600)
    later = _scrape_client(client)
    assert later["portal_gbfs_feed_stale"][("lillestrom",)] == 1
    assert later["portal_gbfs_feed_last_success_age_seconds"][("lillestrom",)] >= \
        ages[("lillestrom",)]  # still counted from the last good fetch


def test_metrics_count_mqtt_messages_stored_and_refused_by_reason(client, settings_env):
    prefix = unique_prefix()
    good = (SENSORS / "tti-docs_starter-kit_mclimate-button_2025-04-16.json").read_bytes()
    messages = [(f"{prefix}/up", good)] * 2 + [(f"{prefix}/up", b"{")] * 3 + \
        [(f"{prefix}/up", b"[]")]
    with running_subscriber(settings_env, [Route(f"{prefix}/#", "tts")], prefix,
                            f"{prefix}-metrics") as sub, publisher() as pub:
        publish_all(pub, messages)
        wait_until(lambda: sub.stats.received == len(messages), 30,
                   message="every message read")

        def stored() -> float:
            return _scrape_client(client).get("portal_mqtt_messages_stored", {}).get(
                (f"{prefix}-metrics",), 0)
        wait_until(lambda: stored() == 2, 30, interval=0.5,
                   message="the subscriber's stored messages on /metrics")
        refused = _scrape_client(client)["portal_mqtt_messages_refused"]
    assert refused[("an empty list: no uplink",)] == 1
    assert sum(v for (reason,), v in refused.items() if reason.startswith("not JSON")) == 3
