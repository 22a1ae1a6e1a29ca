"""Admins arrange the map: groups, layer order, colours and styles, default visibility,
basemap; undo; export and import as YAML. Every change is a version
(matching_and_import_db/arrangement/store.py) the map follows at its next load."""

from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    current_app,
    g,
    redirect,
    render_template,
    request,
    url_for,
)

from app import dbapi
from app.admin.map_form import document_from_form
from app.auth.access import ADMIN, LOGIN, access
from app.auth.decorators import role_required
from app.extensions import db
from app.maps import arranged
from matching_and_import_db.arrangement import store, yamlio
from matching_and_import_db.arrangement.model import (
    ArrangementError,
    complete,
    place,
    read_document,
)
from matching_and_import_db.errors import Conflict
from matching_and_import_db.layers.catalog import catalog

bp = Blueprint("map_admin", __name__)

admin_required = role_required("admin")


def _page(status: int = 200, error: str | None = None):
    arrangement = arranged.current_arrangement()
    facts = arranged.all_facts(fresh=True)
    groups = place(arrangement, list(facts.values()), keep_empty=True)
    layers = catalog().all_layers()
    return render_template(
        "admin/map.html", groups=groups, layers=layers, facts=facts,
        arrangement=arrangement, basemaps=current_app.config["PORTAL"].basemaps,
        history=store.history(dbapi.connection()), error=error,
        legend_of=arranged.legend_of, colour_of=_colour_of,
        message=request.args.get("done")), status


def _colour_of(placed, layer) -> str:
    """The colour the colour field starts with: the arranged one, else the catalog's
    first legend colour."""
    if placed.style is not None and placed.style.colour:
        return placed.style.colour
    return next((c for c, _ in layer.legend if c.startswith("#") and len(c) == 7), "#3388ff")


def _save(arrangement, done: str):
    version = store.save(dbapi.connection(), arrangement, g.user.id, arranged.all_facts(fresh=True),
                         arranged.basemap_names())
    db.session.commit()
    return redirect(url_for("map_admin.page", done=done if version else "unchanged"), 303)


@bp.get("/admin/map")
@access({ADMIN}, anonymous=LOGIN)
@admin_required
def page():
    return _page()


@bp.post("/admin/map")
@access({ADMIN}, anonymous=LOGIN)
@admin_required
def save_form():
    facts = arranged.all_facts(fresh=True)
    try:
        doc = document_from_form(request.form, arranged.current_arrangement(), facts)
        arrangement = read_document(doc, facts, arranged.basemap_names())
    except ArrangementError as e:
        return _page(400, e.message)
    return _save(arrangement, "saved")


@bp.post("/admin/map/undo")
@access({ADMIN}, anonymous=LOGIN)
@admin_required
def undo():
    try:
        store.undo(dbapi.connection(), g.user.id)
    except Conflict:
        return redirect(url_for("map_admin.page", done="nothing-to-undo"), 303)
    db.session.commit()
    return redirect(url_for("map_admin.page", done="undone"), 303)


@bp.get("/admin/map/arrangement.yaml")
@access({ADMIN}, anonymous=LOGIN)
@admin_required
def export_yaml():
    whole = complete(arranged.current_arrangement(), list(arranged.all_facts(fresh=True).values()))
    return Response(yamlio.dump(whole),
                    mimetype="application/yaml",
                    headers={"Content-Disposition": "attachment; filename=map-arrangement.yaml",
                             "Cache-Control": "no-store"})


@bp.post("/admin/map/import")
@access({ADMIN}, anonymous=LOGIN)
@admin_required
def import_yaml():
    upload = request.files.get("file")
    text = upload.read(yamlio.MAX_BYTES + 1) if upload and upload.filename else \
        request.form.get("yaml", "").encode()
    if not text.strip():
        return _page(400, "Choose a YAML file (or paste one) to import.")
    try:
        arrangement = yamlio.load(text, arranged.all_facts(fresh=True), arranged.basemap_names())
    except ArrangementError as e:
        return _page(400, f"The file was not imported: {e.message}")
    return _save(arrangement, "imported")

