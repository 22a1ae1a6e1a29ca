"""Command-line tasks for operators: `flask --app app pipeline ...`, `rides ...`, `map ...`."""

from __future__ import annotations

import json
import time

import click
from flask import Flask, current_app
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
@click.option("--config", "config_json", default=None,
              help='More settings of the kind, as JSON: \'{"format": "csv", "mapping": '
                   '{...}}\' for a stops import.')
@click.option("--if-missing", is_flag=True, help="Do nothing when the pipeline exists.")
def create(name, kind, source, schedule, config_json, if_missing):
    """Create a pipeline."""
    try:
        if if_missing:
            try:
                service.get_pipeline_by_name(name)
                click.echo(f"pipeline {name} exists")
                return
            except NotFound:
                pass
        config = {**service.parse_config_json(config_json), "source": source}
        pipeline = service.create_pipeline(name, kind, config, schedule)
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
@click.option("--after", "after", default=None,
              help="Queue only once the newest run of this other pipeline has succeeded "
                   "(a stops import after the OSM import it is matched against).")
@click.option("--timeout", default=600, show_default=True)
def run(name, wait, after, timeout):
    """Queue a run; the scheduler executes it."""
    try:
        pipeline = service.get_pipeline_by_name(name)
        if after:
            _wait_for_success(service.get_pipeline_by_name(after), timeout)
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


def _wait_for_success(pipeline, timeout: int) -> None:
    from sqlalchemy import select
    deadline = time.monotonic() + timeout
    while True:
        db.session.expire_all()
        newest = db.session.scalar(select(PipelineRun).where(
            PipelineRun.pipeline_id == pipeline.id).order_by(PipelineRun.id.desc()).limit(1))
        status = newest.status if newest is not None else "never run"
        if status == "succeeded":
            return
        if status == "failed":
            raise click.ClickException(f"the last run of {pipeline.name} failed: "
                                       f"{newest.message}")
        if time.monotonic() >= deadline:
            raise click.ClickException(f"{pipeline.name} has not succeeded within {timeout}s "
                                       f"({status}; is the scheduler running?)")
        db.session.rollback()
        time.sleep(1)


rides_cli = AppGroup("rides", help="Rides: reprocess or delete in bulk, import files.")


@rides_cli.command("reprocess")
@click.argument("ride_ids", nargs=-1, type=int)
@click.option("--user", "user_ref", default=None, help="All rides of this user (id or email).")
@click.option("--all", "all_rides", is_flag=True, help="Every ride of every user.")
def reprocess(ride_ids, user_ref, all_rides):
    """Queue rides for processing again; the scheduler picks them up."""
    from sqlalchemy import or_, select

    from app.models import User
    from app.rides import service as rides
    chosen = sum(bool(x) for x in (ride_ids, user_ref, all_rides))
    if chosen != 1:
        raise click.UsageError("name ride ids, or --user, or --all (one of them)")
    if all_rides:
        count = rides.reprocess_all()
    elif user_ref:
        user = db.session.scalar(select(User).where(or_(
            User.email == user_ref, User.id == (int(user_ref) if user_ref.isdigit() else -1))))
        if user is None:
            raise click.ClickException(f"no user {user_ref}")
        count = rides.reprocess_user(user.id)
    else:
        count = rides.reprocess(list(ride_ids))
    click.echo(f"queued {count} ride(s) for processing")


@rides_cli.command("delete")
@click.argument("ride_ids", nargs=-1, type=int, required=True)
def delete_rides(ride_ids):
    """Delete rides of any user, with their events, their share of the road statistics and
    their raw files (for admins: the web pages show them only their own private rides)."""
    from sqlalchemy import select

    from app.models import Ride
    from app.rides import service as rides
    owners: dict[int, list[int]] = {}
    for user_id, ride_id in db.session.execute(
            select(Ride.user_id, Ride.id).where(Ride.id.in_(ride_ids))):
        owners.setdefault(user_id, []).append(ride_id)
    count = sum(rides.delete_rides(user_id, ids) for user_id, ids in owners.items())
    click.echo(f"deleted {count} ride(s)")


@rides_cli.command("import")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--subject", required=True,
              help="The rider: their subject at the OIDC provider (made if missing).")
@click.option("--public/--private", default=True, show_default=True)
@click.option("--wait-for-roads", default=0, show_default=True,
              help="Seconds to wait for an OSM import to publish roads first, so the rides "
                   "are snapped when the scheduler takes them.")
def import_rides(files, subject, public, wait_for_roads):
    """Upload ride files for a rider, as the device API would (the same file twice is
    one ride). For demos and migrations from other portals."""
    from sqlalchemy import func, select

    from app.models import OsmRoad, User
    from app.rides import service as rides
    deadline = time.monotonic() + wait_for_roads
    while db.session.scalar(select(func.count()).select_from(OsmRoad)) == 0:
        if time.monotonic() >= deadline:
            if wait_for_roads:
                raise click.ClickException(f"no roads after {wait_for_roads}s: is the "
                                           "scheduler running the OSM import?")
            break
        db.session.rollback()
        time.sleep(1)
    issuer = current_app.config["PORTAL"].oidc_issuer or "local"
    user = db.session.scalar(select(User).where(User.issuer == issuer,
                                                User.subject == subject))
    if user is None:
        user = User(issuer=issuer, subject=subject, display_name=subject, role="user")
        db.session.add(user)
        db.session.commit()
    for path in files:
        with open(path, "rb") as f:
            try:
                ride, created = rides.accept_upload(user, path, f.read(), via="api",
                                                      public=public)
            except DomainError as exc:
                raise click.ClickException(str(exc)) from None
        click.echo(f"{path}: {'queued as' if created else 'already there as'} ride {ride.id}")


map_cli = AppGroup("map", help="The map's arrangement (/admin/map) as YAML.")


@map_cli.command("import")
@click.argument("file", type=click.File("rb"))
def import_arrangement(file):
    """Make a YAML file the map's arrangement (a new version, as an import on /admin/map
    does; a deployment seeds its map this way)."""
    from app import dbapi
    from app.maps import arranged
    from matching_and_import_db.arrangement import store, yamlio
    try:
        arrangement = yamlio.load(file.read(yamlio.MAX_BYTES + 1), arranged.all_facts(fresh=True),
                                  arranged.basemap_names())
    except DomainError as exc:
        raise click.ClickException(f"{file.name}: {exc}") from None
    version = store.save(dbapi.connection(), arrangement, None, arranged.all_facts(fresh=True),
                         arranged.basemap_names())
    db.session.commit()
    click.echo(f"version {version.id}: {version.summary}" if version else "no change")


@map_cli.command("export")
def export_arrangement():
    """Write the map's arrangement as YAML to standard output."""
    from app.maps import arranged
    from matching_and_import_db.arrangement import yamlio
    from matching_and_import_db.arrangement.model import complete
    click.echo(yamlio.dump(complete(arranged.current_arrangement(),
                                    list(arranged.all_facts(fresh=True).values()))), nl=False)


def register_cli(app: Flask) -> None:
    from app.live.gbfs_cli import gbfs_cli
    app.cli.add_command(pipeline_cli)
    app.cli.add_command(rides_cli)
    app.cli.add_command(map_cli)
    from app.workspaces.cli import workspace_cli
    app.cli.add_command(workspace_cli)
    app.cli.add_command(gbfs_cli)
