"""The review pages (operators): problems with the pair on a map and the actions that
record decisions, and the decisions with who made them and when."""

from __future__ import annotations

from flask import Blueprint, g, redirect, render_template, request, url_for

from app.auth.access import LOGIN, OPERATORS, access
from app.auth.decorators import role_required
from app.models.stops import DECISION_STATUSES
from app.params import link_to, parse_int
from app.stops import queries, service
from matching_and_import_db.errors import InputError
from matching_and_import_db.stops.problems import PROBLEM_TYPES

bp = Blueprint("stops", __name__)

PAGE_SIZE = 25
DECISIONS_PAGE_SIZE = 50


def _pages(total: int, limit: int, offset: int) -> dict:
    def link(at: int) -> str:
        return link_to(request.endpoint, queries.FILTER_PARAMS, offset=at)
    return {"total": total, "first": offset + 1 if total else 0,
            "last": min(offset + limit, total),
            "prev": link(max(offset - limit, 0)) if offset > 0 else None,
            "next": link(offset + limit) if offset + limit < total else None}


def _map_item(r: dict) -> dict:
    offer = (r["evidence"] or {}).get("renamed_candidate")
    return {"id": r["id"], "type": r["type"],
            # the OSM platform offered for a renamed stop: drawn as its pair would be
            "offer": [offer["lon"], offer["lat"]] if offer and "lon" in offer else None,
            "official": None if r["official_lon"] is None else [r["official_lon"],
                                                                r["official_lat"]],
            "osm": None if r["osm_lon"] is None else [r["osm_lon"], r["osm_lat"]],
            "at": None if r["lon"] is None else [r["lon"], r["lat"]]}


@bp.get("/stops/problems")
@access(OPERATORS, anonymous=LOGIN)
@role_required("operator")
def problems_page():
    flt = queries.ProblemFilter.from_args(request.args)
    offset = parse_int(request.args.get("offset"), "offset", 0, 0, 10**9)
    queries.snapshot()
    rows, total = queries.problems(flt, PAGE_SIZE, offset)
    return render_template(
        "stops/problems.html", problems=rows, flt=flt, args=request.args,
        pages=_pages(total, PAGE_SIZE, offset), types=PROBLEM_TYPES,
        statuses=queries.PROBLEM_STATUSES, areas=queries.problem_areas(),
        attributes=service.ATTRIBUTES, map_items=[_map_item(r) for r in rows],
        needs_review=service.decisions_needing_review(),
        here=link_to(request.endpoint, queries.FILTER_PARAMS + ("offset",)),
        exports={fmt: link_to("stops_api.export_problems", queries.FILTER_PARAMS, fmt=fmt)
                 for fmt in ("csv", "geojson")})


@bp.post("/stops/decisions")
@access(OPERATORS, anonymous=LOGIN)
@role_required("operator")
def decide():
    form = request.form
    action, side = form.get("action", ""), form.get("side")
    if action.startswith("attribute:"):  # one button per side: "attribute:official"
        action, side = action.split(":", 1)
    service.record_decision(g.user.id, action, form.get("official_id"), form.get("osm_key"),
                            form.get("attribute"), side, form.get("note"))
    return redirect(_back())


@bp.get("/stops/decisions")
@access(OPERATORS, anonymous=LOGIN)
@role_required("operator")
def decisions_page():
    status = request.args.get("status") or None
    if status and status not in DECISION_STATUSES:
        raise InputError(f"status must be one of {', '.join(DECISION_STATUSES)}")
    offset = parse_int(request.args.get("offset"), "offset", 0, 0, 10**9)
    rows, total = service.list_decisions(status, DECISIONS_PAGE_SIZE, offset)
    return render_template("stops/decisions.html", rows=rows, status=status,
                           statuses=DECISION_STATUSES,
                           pages=_pages(total, DECISIONS_PAGE_SIZE, offset),
                           here=link_to(request.endpoint, ("status", "offset")))


@bp.post("/stops/decisions/<int:decision_id>/keep")
@access(OPERATORS, anonymous=LOGIN)
@role_required("operator")
def keep(decision_id: int):
    service.keep_decision(g.user.id, decision_id)
    return redirect(_back())


@bp.post("/stops/decisions/<int:decision_id>/withdraw")
@access(OPERATORS, anonymous=LOGIN)
@role_required("operator")
def withdraw(decision_id: int):
    service.withdraw_decision(g.user.id, decision_id)
    return redirect(_back())


def _back() -> str:
    """Back to the page the form was on; only our own pages, never another site."""
    target = request.form.get("next") or ""
    if target.startswith("/stops/") and "//" not in target and "\\" not in target:
        return target
    return url_for("stops.problems_page")
