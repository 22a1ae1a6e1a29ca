"""The request's transaction bound to one workspace, and every later transaction of the same
request too: after a commit the ORM reads expired objects again in a new transaction,
which the row-level security policies would show nothing of without the setting."""

from __future__ import annotations

from flask import g, has_app_context
from sqlalchemy import event
from sqlalchemy.orm import Session

from app.extensions import db
from matching_and_import_db.workspaces import store


def bind(workspace_id: int):
    """The request's DB-API cursor, its transaction (and the request's later ones) bound
    to the workspace."""
    g.workspace_id = workspace_id
    cur = db.session.connection().connection.driver_connection.cursor()
    store.act_in_workspace(cur, workspace_id)
    return cur


def _rebind(session, transaction, connection) -> None:
    if has_app_context() and g.get("workspace_id") is not None:
        with connection.connection.driver_connection.cursor() as cur:
            store.act_in_workspace(cur, g.workspace_id)


def init_workspace_binding() -> None:
    if not event.contains(Session, "after_begin", _rebind):
        event.listen(Session, "after_begin", _rebind)
