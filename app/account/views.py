"""The rider's settings: device API key, privacy zones, default visibility of new rides."""

from __future__ import annotations

from flask import Blueprint, g, redirect, render_template, request, url_for

from app.auth.access import LOGIN, OWNER, USERS, access
from app.auth.decorators import login_required
from app.extensions import db
from app.rides import privacy, service
from matching_and_import_db.errors import InputError

bp = Blueprint("account", __name__)


@bp.get("/settings")
@access(USERS, anonymous=LOGIN)
@login_required
def settings_page(new_key: str | None = None):
    return render_template("account/settings.html", zones=privacy.zones_of(g.user),
                           new_key=new_key)


@bp.post("/settings/api-key")
@access(USERS, anonymous=LOGIN)
@login_required
def regenerate_key():
    # shown in this one response, never again: the server keeps only its hash
    return settings_page(new_key=service.regenerate_api_key(g.user))


@bp.post("/settings/visibility")
@access(USERS, anonymous=LOGIN)
@login_required
def default_visibility():
    g.user.rides_public_by_default = request.form.get("public") == "1"
    db.session.commit()
    return redirect(url_for("account.settings_page"))


def _number(name: str) -> float:
    raw = request.form.get(name, "").strip()
    try:
        return float(raw)
    except ValueError:
        raise InputError(f"{name} must be a number, got {raw!r}") from None


@bp.post("/settings/zones")
@access(USERS, anonymous=LOGIN)
@login_required
def add_zone():
    privacy.add_zone(g.user, _number("lon"), _number("lat"), _number("radius_m"),
                     request.form.get("name"))
    return redirect(url_for("account.settings_page"))


@bp.post("/settings/zones/<int:zone_id>/delete")
@access({OWNER}, anonymous=LOGIN)
@login_required
def delete_zone(zone_id: int):
    privacy.delete_zone(g.user, zone_id)
    return redirect(url_for("account.settings_page"))
