"""`flask workspace ...`: what admins do by API, from the command line (start.sh's demo)."""

from __future__ import annotations

import click
from flask.cli import AppGroup
from sqlalchemy import select

from app.extensions import db
from app.models.workspaces import Workspace, WorkspaceClient
from app.workspaces import service

workspace_cli = AppGroup("workspace", help="Workspaces and their machine clients.")


@workspace_cli.command("create")
@click.argument("slug")
@click.option("--name", required=True)
@click.option("--if-missing", is_flag=True, help="do nothing when it exists")
def create(slug, name, if_missing):
    if if_missing and db.session.scalar(select(Workspace.id).where(Workspace.slug == slug)):
        click.echo(f"workspace {slug} exists")
        return
    service.create_workspace(slug, name)
    click.echo(f"workspace {slug} created")


@workspace_cli.command("client")
@click.argument("slug")
@click.argument("client_id")
@click.option("--if-missing", is_flag=True, help="do nothing when it is registered")
def client(slug, client_id, if_missing):
    """Register the OAuth client CLIENT_ID (as the provider names it) to workspace SLUG."""
    if if_missing and db.session.scalar(
            select(WorkspaceClient.id).where(WorkspaceClient.client_id == client_id)):
        click.echo(f"client {client_id} is registered")
        return
    service.register_client(service.workspace_by_slug(slug), client_id, client_id)
    click.echo(f"client {client_id} registered to {slug}")
