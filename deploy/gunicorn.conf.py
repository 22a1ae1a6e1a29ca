"""gunicorn settings for every way the web process runs: scripts/web.sh (start.sh, behind
nginx) and the `web` role of entrypoint.sh (compose, behind the `proxy` service).

Slow clients are nginx's job (it buffers whole requests); these settings keep gunicorn
itself from being held: gthread workers wait for a request's first bytes in their poller,
not in a thread, a worker silent for `timeout` is replaced, and idle keep-alive
connections are closed after a few seconds.
"""

import os
import tempfile

bind = os.environ.get("GUNICORN_BIND", f"0.0.0.0:{os.environ.get('PORT', '5001')}")
workers = int(os.environ.get("WEB_WORKERS", "2"))
threads = int(os.environ.get("WEB_THREADS", "4"))
worker_class = "gthread"
timeout = 120
graceful_timeout = 30
keepalive = 5
limit_request_line = 8190
limit_request_fields = 100
accesslog = "-"
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")


# PORTAL_LOG_FORMAT=json: gunicorn's own lines (its access log, its errors) in the app's
# JSON format (logging_setup.JsonFormatter), so that every line of the process is one
# object; an access line carries the answer's X-Request-ID as request_id.
if os.environ.get("PORTAL_LOG_FORMAT") == "json":
    from gunicorn.glogging import Logger

    class JsonLogger(Logger):
        def setup(self, cfg):
            super().setup(cfg)
            from matching_and_import_db.settings.logging_setup import JsonFormatter
            for log in (self.error_log, self.access_log):
                for handler in log.handlers:
                    handler.setFormatter(JsonFormatter())

    logger_class = JsonLogger


# Prometheus multiprocess mode (app/metrics): every worker writes its samples into one
# directory, emptied here when gunicorn starts (scripts/web.sh gives each start its own;
# otherwise a new temporary one, always writable, also in the container), and a worker's
# live gauges are dropped when it exits.
metrics_dir = os.environ.get("PROMETHEUS_MULTIPROC_DIR") or tempfile.mkdtemp(
    prefix="portal-metrics-")
os.environ["PROMETHEUS_MULTIPROC_DIR"] = metrics_dir


def on_starting(server):
    import shutil
    shutil.rmtree(metrics_dir, ignore_errors=True)
    os.makedirs(metrics_dir, exist_ok=True)


def child_exit(server, worker):
    from prometheus_client import multiprocess
    multiprocess.mark_process_dead(worker.pid, metrics_dir)
