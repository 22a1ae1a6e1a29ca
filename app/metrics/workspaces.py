"""Per-workspace ingest metrics (matching_and_import_db.workspaces.metrics, kept in Redis by
every web process) when /metrics is scraped: datapoints accepted and rejected, batches,
ingest lag and recent batch latency.

Workspaces are labelled by id, not slug: /metrics answers everyone, and a private
workspace's name is not everyone's to read (its admins map ids to names)."""

from __future__ import annotations

import logging

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from redis.exceptions import RedisError

from matching_and_import_db.sqlfiles import load_sql
from matching_and_import_db.workspaces import metrics

PACKAGE = "app.metrics"
log = logging.getLogger(__name__)


class WorkspaceCollector:
    def __init__(self, connect, redis):
        self.connect = connect  # a context manager giving a psycopg2 connection
        self.redis = redis

    def collect(self):
        datapoints = CounterMetricFamily(
            "portal_workspace_datapoints", "Datapoints pushed into each workspace, by outcome",
            labels=["workspace_id", "outcome"])
        batches = CounterMetricFamily("portal_workspace_batches",
                                      "Datapoint batches pushed into each workspace",
                                      labels=["workspace_id"])
        lag = GaugeMetricFamily(
            "portal_workspace_ingest_lag_seconds",
            "Seconds between the newest pushed datapoint's modification time and its arrival",
            labels=["workspace_id"])
        latency = GaugeMetricFamily(
            "portal_workspace_batch_latency_seconds",
            "Batch latency over each workspace's recent batches, by quantile",
            labels=["workspace_id", "quantile"])
        with self.connect() as conn:
            try:
                with conn.cursor() as cur:
                    cur.execute(load_sql(PACKAGE, "workspaces.sql"))
                    ids = [row[0] for row in cur.fetchall()]
            finally:
                conn.rollback()
        for workspace_id in ids:
            label = str(workspace_id)
            try:
                seen = metrics.read(self.redis, workspace_id)
            except RedisError as exc:  # the rest of the scrape still answers
                log.warning("workspace metrics left out: Redis unreachable (%s)", exc)
                return
            datapoints.add_metric([label, "accepted"], seen["accepted"])
            datapoints.add_metric([label, "rejected"], seen["rejected"])
            batches.add_metric([label], seen["batches"])
            if seen["ingest_lag_seconds"] is not None:
                lag.add_metric([label], seen["ingest_lag_seconds"])
            if seen["batch_latency"] is not None:
                latency.add_metric([label, "0.5"], seen["batch_latency"]["p50_ms"] / 1000)
                latency.add_metric([label, "0.99"], seen["batch_latency"]["p99_ms"] / 1000)
        yield from (datapoints, batches, lag, latency)
