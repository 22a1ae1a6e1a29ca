"""Admins manage workspaces: create one, give users a role in it, register machine
clients (the OAuth client ids the provider puts in their tokens), remove either. The
workspace page (pages.py) does the same for a workspace's owners, through the same
service functions."""

from __future__ import annotations

from flask import Blueprint, jsonify, redirect, render_template, request, url_for
from sqlalchemy import distinct, func, select

from app.auth.access import ADMIN, LOGIN, access
from app.auth.decorators import role_required
from app.extensions import db
from app.models.workspaces import Workspace, WorkspaceClient, WorkspaceMember
from app.workspaces import service

bp = Blueprint("workspaces_admin", __name__, url_prefix="/api/admin/workspaces")
pages = Blueprint("workspaces_admin_pages", __name__, url_prefix="/admin/workspaces")


def _fields() -> dict:
    data = request.get_json(silent=True)
    return data if isinstance(data, dict) else request.form.to_dict()


@bp.get("")
@access({ADMIN}, anonymous=401)
@role_required("admin")
def workspaces():
    rows = db.session.scalars(select(Workspace).order_by(Workspace.slug))
    return jsonify({"workspaces": [{"slug": w.slug, "name": w.name} for w in rows]})


@bp.post("")
@access({ADMIN}, anonymous=401)
@role_required("admin")
def create():
    f = _fields()
    ws = service.create_workspace(f.get("slug"), f.get("name"))
    return jsonify({"slug": ws.slug, "name": ws.name}), 201


@bp.post("/<slug>/members")
@access({ADMIN}, anonymous=401)
@role_required("admin")
def set_member(slug: str):
    f = _fields()
    service.set_member(service.workspace_by_slug(slug), f.get("user_id"), f.get("role"))
    return jsonify({"workspace": slug, "user_id": int(f["user_id"]), "role": f["role"]})


@bp.delete("/<slug>/members/<int:user_id>")
@access({ADMIN}, anonymous=401)
@role_required("admin")
def remove_member(slug: str, user_id: int):
    service.remove_member(service.workspace_by_slug(slug), user_id)
    return "", 204


@bp.post("/<slug>/clients")
@access({ADMIN}, anonymous=401)
@role_required("admin")
def register_client(slug: str):
    f = _fields()
    client = service.register_client(service.workspace_by_slug(slug), f.get("client_id"),
                                     f.get("name"))
    return jsonify({"workspace": slug, "client_id": client.client_id}), 201


@bp.delete("/<slug>/clients/<path:client_id>")
@access({ADMIN}, anonymous=401)
@role_required("admin")
def remove_client(slug: str, client_id: str):
    service.remove_client(service.workspace_by_slug(slug), client_id)
    return "", 204


@pages.get("")
@access({ADMIN}, anonymous=LOGIN)
@role_required("admin")
def page():
    rows = db.session.execute(
        select(Workspace, func.count(distinct(WorkspaceMember.user_id)),
               func.count(distinct(WorkspaceClient.id)))
        .outerjoin(WorkspaceMember, WorkspaceMember.workspace_id == Workspace.id)
        .outerjoin(WorkspaceClient, WorkspaceClient.workspace_id == Workspace.id)
        .group_by(Workspace.id).order_by(Workspace.slug)).all()
    return render_template("workspaces/admin.html", rows=rows,
                           made=request.args.get("made"))


@pages.post("")
@access({ADMIN}, anonymous=LOGIN)
@role_required("admin")
def create_form():
    ws = service.create_workspace(request.form.get("slug"), request.form.get("name"))
    return redirect(url_for(".page", made=ws.slug))
