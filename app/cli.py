"""Command-line tasks for operators: `flask --app app pipeline ...`."""

from __future__ import annotations

import json
import time

import click
from flask import Flask
from flask.cli import AppGroup

from app.extensions import db
from app.models import PipelineRun
from app.pipelines import service
from matching_and_import_db.errors import DomainError, NotFound

pipeline_cli = AppGroup("pipeline", help="Configure and run import pipelines.")


@pipeline_cli.command("create")
@click.argument("name")
@click.option("--kind", default="osm_import", show_default=True)
@click.option("--source", required=True, help="File path or http(s) URL.")
@click.option("--schedule", default=None, help="Crontab line or '@every 10m'.")
@click.option("--if-missing", is_flag=True, help="Do nothing when the pipeline exists.")
def create(name, kind, source, schedule, if_missing):
    """Create a pipeline."""
    try:
        if if_missing:
            try:
                service.get_pipeline_by_name(name)
                click.echo(f"pipeline {name} exists")
                return
            except NotFound:
                pass
        pipeline = service.create_pipeline(name, kind, {"source": source}, schedule)
    except DomainError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"created pipeline {pipeline.name} (id {pipeline.id})")


@pipeline_cli.command("list")
def list_():
    """List pipelines as JSON lines."""
    for p in service.list_pipelines():
        click.echo(json.dumps(service.pipeline_as_dict(p)))


@pipeline_cli.command("run")
@click.argument("name")
@click.option("--wait", is_flag=True, help="Wait until the scheduler has finished the run.")
@click.option("--timeout", default=600, show_default=True)
def run(name, wait, timeout):
    """Queue a run; the scheduler executes it."""
    try:
        pipeline = service.get_pipeline_by_name(name)
    except DomainError as exc:
        raise click.ClickException(str(exc)) from None
    run_id = service.run_now(pipeline.id, None)
    click.echo(f"queued run {run_id} of {name}")
    if not wait:
        return
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        db.session.expire_all()
        run = db.session.get(PipelineRun, run_id)
        if run.status in ("succeeded", "failed"):
            click.echo(f"run {run_id} {run.status}: {run.message}")
            if run.status == "failed":
                raise SystemExit(1)
            return
        time.sleep(0.5)
    raise click.ClickException(f"run {run_id} did not finish within {timeout}s "
                               "(is the scheduler running?)")


def register_cli(app: Flask) -> None:
    app.cli.add_command(pipeline_cli)
