"""The scheduler's Prometheus metrics: each job's runs by outcome and their durations,
served by the process itself on PORTAL_SCHEDULER_METRICS_PORT (0: not served). Pipeline
runs, the ride queue and datasets are in the web's /metrics, read from the database."""

from __future__ import annotations

from prometheus_client import Counter, Histogram, start_http_server

JOB_RUNS = Counter("portal_scheduler_job_runs", "Scheduler job runs by outcome",
                   ["job", "outcome"])
JOB_SECONDS = Histogram("portal_scheduler_job_seconds", "Seconds a scheduler job ran",
                        ["job"], buckets=(0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 1800))


def job_done(job: str, outcome: str, seconds: float) -> None:
    """outcome: ok | failed | paused (Redis unreachable)."""
    JOB_RUNS.labels(job, outcome).inc()
    JOB_SECONDS.labels(job).observe(seconds)


def serve(port: int) -> None:
    if port:
        start_http_server(port, addr="127.0.0.1")
