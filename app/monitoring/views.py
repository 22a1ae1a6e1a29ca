"""Admins: the health of every component, recent errors of every process, usage counts."""

from __future__ import annotations

from flask import Blueprint, jsonify, render_template

from app.auth.access import ADMIN, LOGIN, access
from app.auth.decorators import role_required
from app.monitoring.service import health_report

bp = Blueprint("monitoring", __name__)

admin_required = role_required("admin")


@bp.get("/admin/health")
@access({ADMIN}, anonymous=LOGIN)
@admin_required
def health_page():
    return render_template("admin/health.html", report=health_report())


@bp.get("/api/admin/health")
@access({ADMIN}, anonymous=401)
@admin_required
def health_api():
    return jsonify(health_report())


@bp.app_template_filter("utc_time")
def utc_time(epoch: int) -> str:
    from datetime import UTC, datetime
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%d %H:%M:%S")
