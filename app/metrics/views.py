"""/metrics in Prometheus's text format: the sum over every web worker (multiprocess mode)
plus what the database knows and the workspaces' ingest counts in Redis."""

from __future__ import annotations

from flask import Blueprint, Response
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector

from app.auth.access import EVERYONE, access
from app.metrics.database import DatabaseCollector
from app.metrics.http import multiprocess_dir
from app.metrics.workspaces import WorkspaceCollector
from app.redis_client import get_redis

bp = Blueprint("metrics", __name__)


@bp.get("/metrics")
@access(EVERYONE)
def metrics():
    from app.pipelines.service import raw_connection
    directory = multiprocess_dir()
    if directory:
        workers = CollectorRegistry()
        MultiProcessCollector(workers, path=directory)
    else:
        workers = REGISTRY  # one process (the test client, flask run): its own samples
    database = CollectorRegistry()
    database.register(DatabaseCollector(raw_connection, get_redis()))
    database.register(WorkspaceCollector(raw_connection, get_redis()))
    return Response(generate_latest(workers) + generate_latest(database),
                    content_type=CONTENT_TYPE_LATEST)
