from __future__ import annotations

from flask import Blueprint, g, jsonify, redirect, render_template, request, url_for

from app.auth.access import EVERYONE, LOGIN, OPERATORS, access
from app.auth.decorators import role_required
from app.live import gbfs_service
from app.pipelines import service
from app.redis_client import get_redis, if_redis
from matching_and_import_db.pipelines.kinds import KINDS
from matching_and_import_db.pipelines.progress import active_runs

bp = Blueprint("pipelines", __name__)


@bp.get("/pipelines")
@access(OPERATORS, anonymous=LOGIN)
@role_required("operator")
def index():
    pipelines = service.list_pipelines()
    return render_template("pipelines/index.html", pipelines=pipelines, kinds=KINDS,
                           gbfs_feeds=gbfs_service.list_feeds(),
                           runs=service.recent_runs(limit=30),
                           pipeline_names={p.id: p.name for p in pipelines},
                           next_run_at=service.next_run_at)


@bp.post("/pipelines")
@access(OPERATORS, anonymous=LOGIN)
@role_required("operator")
def create():
    form = request.form
    config = {**service.parse_config_json(form.get("config")), "source": form.get("source", "")}
    service.create_pipeline(form.get("name", "").strip(), form.get("kind", ""), config,
                            form.get("schedule"))
    return redirect(url_for("pipelines.index"))


@bp.post("/api/pipelines/preview")
@access(OPERATORS, anonymous=401)
@role_required("operator")
def api_preview():
    """The dry run of a dataset pipeline from the new-pipeline form: schema and first
    features, nothing saved."""
    form = request.form
    config = {**service.parse_config_json(form.get("config")), "source": form.get("source", "")}
    return jsonify(service.preview_pipeline(form.get("kind", ""), config))


@bp.get("/pipelines/<int:pipeline_id>")
@access(OPERATORS, anonymous=LOGIN)
@role_required("operator")
def detail(pipeline_id: int):
    pipeline = service.get_pipeline(pipeline_id)
    return render_template("pipelines/detail.html", pipeline=pipeline,
                           runs=service.recent_runs(pipeline_id, limit=50),
                           next_run_at=service.next_run_at(pipeline))


@bp.post("/pipelines/<int:pipeline_id>/run")
@access(OPERATORS, anonymous=LOGIN)
@role_required("operator")
def run_now(pipeline_id: int):
    service.run_now(pipeline_id, g.user.id)
    return redirect(request.referrer or url_for("pipelines.detail", pipeline_id=pipeline_id))


@bp.get("/api/pipelines")
@access(OPERATORS, anonymous=401)
@role_required("operator")
def api_list():
    return jsonify({"pipelines": [service.pipeline_as_dict(p) for p in service.list_pipelines()]})


@bp.post("/api/pipelines/<int:pipeline_id>/runs")
@access(OPERATORS, anonymous=401)
@role_required("operator")
def api_run_now(pipeline_id: int):
    run_id = service.run_now(pipeline_id, g.user.id)
    return jsonify({"run_id": run_id}), 202


@bp.get("/api/pipelines/<int:pipeline_id>/runs")
@access(OPERATORS, anonymous=401)
@role_required("operator")
def api_runs(pipeline_id: int):
    service.get_pipeline(pipeline_id)
    return jsonify({"runs": [service.run_as_dict(r)
                             for r in service.recent_runs(pipeline_id, limit=50)]})


@bp.get("/api/pipelines/active")
@access(EVERYONE)
def api_active():
    """What the banner on every page shows: runs in progress with phase, elapsed and ETA."""
    active = if_redis("pipeline progress", None, active_runs, get_redis())
    if active is None:  # progress lives in Redis only: say so rather than fail the banner
        return jsonify({"active": [], "unavailable": "run progress is unavailable while "
                                                     "Redis is unreachable"})
    return jsonify({"active": active})
