"""Admins: the users, and ending a user's sessions (every browser they are logged in on)."""

from __future__ import annotations

from flask import Blueprint, jsonify, redirect, render_template, request, url_for
from sqlalchemy import select

from app.auth.access import ADMIN, LOGIN, access
from app.auth.decorators import role_required
from app.auth.sessions import end_sessions
from app.extensions import db
from app.models import User
from matching_and_import_db.errors import NotFound

bp = Blueprint("admin", __name__)

admin_required = role_required("admin")


def _end_sessions_of(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound(f"no user {user_id}")
    end_sessions(user.id)
    db.session.commit()
    return user


@bp.get("/admin/users")
@access({ADMIN}, anonymous=LOGIN)
@admin_required
def users_page():
    users = db.session.scalars(select(User).order_by(User.id)).all()
    ended = db.session.get(User, request.args.get("ended", type=int) or 0)
    return render_template("admin/users.html", users=users, ended=ended)


@bp.post("/admin/users/<int:user_id>/end-sessions")
@access({ADMIN}, anonymous=LOGIN)
@admin_required
def end_sessions_form(user_id: int):
    user = _end_sessions_of(user_id)
    return redirect(url_for("admin.users_page", ended=user.id))


@bp.post("/api/admin/users/<int:user_id>/end-sessions")
@access({ADMIN}, anonymous=401)
@admin_required
def end_sessions_api(user_id: int):
    user = _end_sessions_of(user_id)
    return jsonify({"user": user.id, "sessions": "ended"})
