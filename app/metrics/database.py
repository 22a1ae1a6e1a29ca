"""Metrics read from the database when /metrics is scraped: pipeline runs by kind and
status with their durations, the newest successful run of each pipeline, the ride queue,
and the published datasets. The same answer from every process (nothing is summed)."""

from __future__ import annotations

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

from matching_and_import_db.sqlfiles import load_sql

PACKAGE = "app.metrics"


class DatabaseCollector:
    def __init__(self, connect):
        self.connect = connect  # a context manager giving a psycopg2 connection

    def collect(self):
        runs = CounterMetricFamily("portal_pipeline_runs", "Pipeline runs finished",
                                   labels=["kind", "status"])
        seconds = CounterMetricFamily("portal_pipeline_run_seconds",
                                      "Seconds spent in finished pipeline runs",
                                      labels=["kind", "status"])
        age = GaugeMetricFamily("portal_pipeline_last_success_age_seconds",
                                "Seconds since each pipeline's newest successful run ended",
                                labels=["pipeline"])
        queue = GaugeMetricFamily("portal_ride_queue", "Rides by processing status",
                                  labels=["status"])
        features = GaugeMetricFamily("portal_dataset_features",
                                     "Features of each published dataset", labels=["dataset"])
        with self.connect() as conn:
            try:
                with conn.cursor() as cur:
                    cur.execute(load_sql(PACKAGE, "pipeline_runs.sql"))
                    for kind, status, count, total in cur.fetchall():
                        runs.add_metric([kind, status], count)
                        seconds.add_metric([kind, status], total)
                    cur.execute(load_sql(PACKAGE, "last_success.sql"))
                    for name, seconds_ago in cur.fetchall():
                        age.add_metric([name], seconds_ago)
                    cur.execute(load_sql(PACKAGE, "ride_queue.sql"))
                    for status, count in cur.fetchall():
                        queue.add_metric([status], count)
                    cur.execute(load_sql(PACKAGE, "dataset_features.sql"))
                    for slug, count in cur.fetchall():
                        features.add_metric([slug], count)
            finally:
                conn.rollback()
        yield from (runs, seconds, age, queue, features)
