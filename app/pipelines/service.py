"""Pipelines as the app sees them: configure, list, request runs. The runs themselves are
executed by the scheduler (matching_and_import_db.pipelines.runner)."""

from __future__ import annotations

import json
import os
import re
from contextlib import contextmanager
from datetime import UTC

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.models import Pipeline, PipelineRun
from matching_and_import_db.datasets.pipeline import DATASET_IMPORT
from matching_and_import_db.datasets.preview import dry_run
from matching_and_import_db.errors import Conflict, InputError, NotFound
from matching_and_import_db.pipelines import runner
from matching_and_import_db.pipelines.kinds import get_kind
from matching_and_import_db.pipelines.schedules import next_slot, parse_schedule
from matching_and_import_db.pipelines.sources import SourcePolicy

_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,99}$")


@contextmanager
def raw_connection():
    """A psycopg2 connection from the app's pool, for the Flask-free domain functions."""
    conn = db.engine.raw_connection()
    try:
        yield conn.driver_connection
    finally:
        conn.close()


def parse_config_json(text: str | None) -> dict:
    """The optional settings a form or the CLI gives as JSON (an object), beside the source."""
    if not text or not text.strip():
        return {}
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise InputError(f"the settings are not valid JSON: {exc}") from None
    if not isinstance(value, dict):
        raise InputError("the settings must be a JSON object, like {\"format\": \"gtfs\"}")
    return value


def create_pipeline(name: str, kind: str, config: dict, schedule: str | None,
                    enabled: bool = True) -> Pipeline:
    if not _NAME.match(name or ""):
        raise InputError("a pipeline name is 1-100 characters: lower-case letters, digits, "
                         "'-' and '_', starting with a letter or digit")
    config = get_kind(kind).validate_config(config)
    schedule = (schedule or "").strip() or None
    if schedule:
        parse_schedule(schedule)
    pipeline = Pipeline(name=name, kind=kind, config=config, schedule=schedule, enabled=enabled)
    db.session.add(pipeline)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise Conflict(f"a pipeline named {name!r} exists already") from None
    return pipeline


def preview_pipeline(kind: str, config: dict) -> dict:
    """A dataset pipeline's dry run with the portal's source policy (the web process
    downloads, held to the same address rules as the scheduler)."""
    if kind != DATASET_IMPORT.name:
        raise InputError("a dry run previews dataset pipelines only (kind 'dataset')")
    settings = current_app.config["PORTAL"]
    policy = SourcePolicy.of(settings.import_dir, settings.source_allowed_hosts,
                             settings.source_max_bytes, overpass_url=settings.overpass_url)
    config = DATASET_IMPORT.validate_config(config)
    return dry_run(config, policy, os.path.join(settings.data_dir, "downloads"))


def get_pipeline(pipeline_id: int) -> Pipeline:
    pipeline = db.session.get(Pipeline, pipeline_id)
    if pipeline is None:
        raise NotFound(f"no pipeline {pipeline_id}")
    return pipeline


def get_pipeline_by_name(name: str) -> Pipeline:
    pipeline = db.session.scalar(select(Pipeline).where(Pipeline.name == name))
    if pipeline is None:
        raise NotFound(f"no pipeline named {name!r}")
    return pipeline


def list_pipelines() -> list[Pipeline]:
    return list(db.session.scalars(select(Pipeline).order_by(Pipeline.name)))


def recent_runs(pipeline_id: int | None = None, limit: int = 20) -> list[PipelineRun]:
    query = select(PipelineRun).order_by(PipelineRun.id.desc()).limit(limit)
    if pipeline_id is not None:
        query = query.where(PipelineRun.pipeline_id == pipeline_id)
    return list(db.session.scalars(query))


def run_now(pipeline_id: int, requested_by: int | None) -> int:
    get_pipeline(pipeline_id)
    with raw_connection() as conn:
        return runner.request_run(conn, pipeline_id, requested_by)


def next_run_at(pipeline: Pipeline):
    if not pipeline.enabled or not pipeline.schedule:
        return None
    from datetime import datetime
    return next_slot(pipeline.schedule, datetime.now(UTC))


def run_as_dict(run: PipelineRun) -> dict:
    return {
        "id": run.id, "pipeline_id": run.pipeline_id, "trigger": run.trigger,
        "status": run.status, "phase": run.phase,
        "scheduled_for": run.scheduled_for.isoformat() if run.scheduled_for else None,
        "started_at": run.started_at.isoformat() if run.started_at else None,
        "finished_at": run.finished_at.isoformat() if run.finished_at else None,
        "worker": run.worker, "counts": run.counts, "phase_seconds": run.phase_seconds,
        "message": run.message,
    }


def pipeline_as_dict(pipeline: Pipeline) -> dict:
    nxt = next_run_at(pipeline)
    return {"id": pipeline.id, "name": pipeline.name, "kind": pipeline.kind,
            "config": pipeline.config, "schedule": pipeline.schedule,
            "enabled": pipeline.enabled, "next_run_at": nxt.isoformat() if nxt else None}
