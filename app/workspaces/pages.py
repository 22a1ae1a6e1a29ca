"""A workspace's page in the browser: everyone with a role in it sees its members, machine
clients, datasets and maps; its owners (and portal admins, for any workspace) add, change
and remove members and register and remove machine clients.

Every change goes through the service functions the admin API uses (service.py). A form
the service refuses shows the page again with the reason, at the error's status, having
changed nothing; a change that passes redirects back (303) with a notice."""

from __future__ import annotations

from flask import Blueprint, g, redirect, render_template, request, url_for

from app.auth.access import ADMIN, LOGIN, USERS, access
from app.auth.decorators import login_required
from app.errors import status_of
from app.extensions import db
from app.models.workspaces import MEMBER_ROLES, OWNER, Workspace
from app.workspaces import service
from app.workspaces.access import MEMBERS, OWNERS, PAGE_REFUSED, workspace_access
from app.workspaces.actors import VIEWER, actor_for
from matching_and_import_db.errors import Conflict, InputError, NotFound

bp = Blueprint("workspace_pages", __name__, url_prefix="/workspaces")
ADMIN_ROLE = "admin"  # a portal admin acts as an owner of every workspace
REFUSALS = (InputError, Conflict, NotFound)  # bad form input; Forbidden stays a 403 page


def _workspace(slug: str, need: str) -> tuple[Workspace, str]:
    """The workspace and the visitor's role in it (at least `need`), else the status the
    access matrix declares: 404 to non-members, 403 to members without the role."""
    if g.user.has_role(ADMIN_ROLE):
        return service.workspace_by_slug(slug), ADMIN_ROLE
    actor, ws = actor_for(slug, need=need)
    return ws, actor.role


def _page(ws: Workspace, role: str, status: int = 200, error: str | None = None):
    members = service.members(ws)
    # the notice names the member a change was about only when they are in the list: a
    # link cannot make the page claim that someone else was added
    done_user = request.args.get("user", type=int)
    done_member = next((m.user.display_name or m.user.subject for m in members
                        if m.user.id == done_user), None)
    return render_template(
        "workspaces/workspace.html", ws=ws, role=role, manages=role in (OWNER, ADMIN_ROLE),
        members=members, clients=service.clients(ws), datasets=service.datasets(ws),
        maps=service.list_maps(ws), roles=MEMBER_ROLES, done=request.args.get("done"),
        done_member=done_member, error=error), status


def _change(slug: str, change, done: str, **args):
    """Run an owner's change; on a refusal show the page again with the reason."""
    ws, role = _workspace(slug, OWNER)
    try:
        extra = change(ws) or {}
    except REFUSALS as exc:
        db.session.rollback()
        return _page(ws, role, status_of(exc)[0], str(exc))
    return redirect(url_for(".page", slug=ws.slug, done=done, **args, **extra), 303)


@bp.get("")
@access(USERS, anonymous=LOGIN)
@login_required
def index():
    """The workspaces the visitor has a role in (every workspace, for an admin)."""
    rows = service.workspaces_of(g.user.id, every_one=g.user.has_role(ADMIN_ROLE))
    return render_template("workspaces/index.html", rows=rows)


@bp.get("/<slug>")
@access({ADMIN}, anonymous=LOGIN)
@workspace_access(MEMBERS, refused=PAGE_REFUSED)
@login_required
def page(slug: str):
    ws, role = _workspace(slug, VIEWER)
    return _page(ws, role)


@bp.post("/<slug>/members")
@access({ADMIN}, anonymous=LOGIN)
@workspace_access(OWNERS, refused=PAGE_REFUSED)
@login_required
def add_member(slug: str):
    def change(ws):
        user = service.add_member(ws, request.form.get("user"), request.form.get("role"))
        return {"user": user.id}
    return _change(slug, change, "added")


@bp.post("/<slug>/members/<int:user_id>")
@access({ADMIN}, anonymous=LOGIN)
@workspace_access(OWNERS, refused=PAGE_REFUSED)
@login_required
def set_role(slug: str, user_id: int):
    return _change(slug, lambda ws: service.change_role(ws, user_id, request.form.get("role")),
                   "role", user=user_id)


@bp.post("/<slug>/members/<int:user_id>/remove")
@access({ADMIN}, anonymous=LOGIN)
@workspace_access(OWNERS, refused=PAGE_REFUSED)
@login_required
def remove_member(slug: str, user_id: int):
    return _change(slug, lambda ws: service.remove_member(ws, user_id), "removed")


@bp.post("/<slug>/clients")
@access({ADMIN}, anonymous=LOGIN)
@workspace_access(OWNERS, refused=PAGE_REFUSED)
@login_required
def register_client(slug: str):
    def change(ws):
        service.register_client(ws, request.form.get("client_id"), request.form.get("name"))
    return _change(slug, change, "client-added")


@bp.post("/<slug>/clients/<path:client_id>/remove")
@access({ADMIN}, anonymous=LOGIN)
@workspace_access(OWNERS, refused=PAGE_REFUSED)
@login_required
def remove_client(slug: str, client_id: str):
    return _change(slug, lambda ws: service.remove_client(ws, client_id), "client-removed")
