"""Metrics read when /metrics is scraped from what the portal already stores: from the
database pipeline runs by kind and status with their durations, the newest successful run
of each pipeline, the ride queue, the published datasets, each GBFS feed's staleness and
the MQTT messages refused by reason; from Redis the MQTT messages each live sensor
subscriber stored (its health report). The same answer from every process (nothing is
summed)."""

from __future__ import annotations

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

from matching_and_import_db.live.mqtt_subscriber import subscriber_health
from matching_and_import_db.sqlfiles import load_sql

PACKAGE = "app.metrics"


class DatabaseCollector:
    def __init__(self, connect, redis=None):
        self.connect = connect  # a context manager giving a psycopg2 connection
        self.redis = redis  # for the sensor subscribers' health reports

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
        stale = GaugeMetricFamily("portal_gbfs_feed_stale",
                                  "1 while an enabled GBFS feed is stale (its last fetch "
                                  "failed or its data is out of date), else 0",
                                  labels=["feed"])
        feed_age = GaugeMetricFamily("portal_gbfs_feed_last_success_age_seconds",
                                     "Seconds since each enabled GBFS feed's last good fetch "
                                     "(absent before the first)", labels=["feed"])
        refused = CounterMetricFamily("portal_mqtt_messages_refused",
                                      "MQTT messages the sensor subscribers refused",
                                      labels=["reason"])
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
                    cur.execute(load_sql(PACKAGE, "gbfs_feeds.sql"))
                    for slug, is_stale, seconds_ago in cur.fetchall():
                        stale.add_metric([slug], int(is_stale))
                        if seconds_ago is not None:
                            feed_age.add_metric([slug], seconds_ago)
                    cur.execute(load_sql(PACKAGE, "mqtt_refused.sql"))
                    for reason, count in cur.fetchall():
                        refused.add_metric([reason], count)
            finally:
                conn.rollback()
        yield from (runs, seconds, age, queue, features, stale, feed_age, refused)
        if self.redis is not None:
            yield self._mqtt_stored()

    def _mqtt_stored(self) -> CounterMetricFamily:
        """Each live subscriber's count since it started (a restart resets it, which
        Prometheus's rate() expects of a counter). Without Redis: none."""
        stored = CounterMetricFamily("portal_mqtt_messages_stored",
                                     "MQTT messages (uplinks) each live sensor subscriber "
                                     "stored since it started", labels=["subscriber"])
        try:
            alive = subscriber_health(self.redis)
        except Exception:  # noqa: BLE001 - Redis down: the database's figures still count
            alive = []
        for report in alive:
            stored.add_metric([report["name"]], report["stored"])
        return stored
