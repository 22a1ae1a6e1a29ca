"""The stops API: matches, problems and statistics as JSON (bbox, limit, offset, next
links), and matches and problems as CSV and GeoJSON. Published data is open: no login."""

from __future__ import annotations

import orjson
from flask import Blueprint, Response, jsonify, request

from app.auth.access import EVERYONE, access
from app.downloads import csv_download, geojson_download
from app.params import link_to, parse_bbox, parse_int
from app.stops import queries
from matching_and_import_db.errors import InputError

bp = Blueprint("stops_api", __name__)

DEFAULT_LIMIT = 100
MATCH_CSV = ("official_id", "osm_key", "method", "stage", "score", "distance_m",
             "official_name", "osm_name", "profile_version", "official_lon", "official_lat",
             "osm_lon", "osm_lat")
PROBLEM_CSV = ("id", "type", "priority", "status", "official_id", "osm_key", "area", "lon",
               "lat", "official_name", "osm_name", "decision_id", "decision_action",
               "evidence")


def _paging() -> tuple[int, int]:
    return (parse_int(request.args.get("limit"), "limit", DEFAULT_LIMIT, 1,
                              queries.MAX_LIMIT),
            parse_int(request.args.get("offset"), "offset", 0, 0, 10**9))


def _page(name: str, items: list, total: int, limit: int, offset: int):
    nxt = None
    if offset + limit < total:
        nxt = link_to(request.endpoint, queries.FILTER_PARAMS, external=True, limit=limit,
                      offset=offset + limit)
    return jsonify({"total": total, "limit": limit, "offset": offset, "next": nxt,
                    name: items})


def match_item(r: dict) -> dict:
    return {"official_id": r["official_id"], "osm_key": r["osm_key"], "method": r["method"],
            "stage": r["stage"], "score": r["score"], "distance_m": r["distance_m"],
            "official_name": r["official_name"], "osm_name": r["osm_name"],
            "official": [r["official_lon"], r["official_lat"]],
            "osm": [r["osm_lon"], r["osm_lat"]], "profile_version": r["profile_version"],
            "evidence": r["evidence"]}


def problem_item(r: dict) -> dict:
    """Public: the problem and both stops; who decided and their notes stay in the review."""
    return {"id": r["id"], "type": r["type"], "priority": r["priority"],
            "status": "open" if r["decision_id"] is None else "resolved",
            "official_id": r["official_id"], "osm_key": r["osm_key"], "area": r["area"],
            "position": None if r["lon"] is None else [r["lon"], r["lat"]],
            "official": None if r["official_lon"] is None else {
                "name": r["official_name"], "platform_code": r["official_platform"],
                "level": r["official_level"], "mode": r["official_mode"],
                "position": [r["official_lon"], r["official_lat"]]},
            "osm": None if r["osm_lon"] is None else {
                "name": r["osm_name"], "kind": r["osm_kind"], "platform_code": r["osm_platform"],
                "position": [r["osm_lon"], r["osm_lat"]]},
            "resolved_by": None if r["decision_id"] is None else {
                "decision_id": r["decision_id"], "action": r["decision_action"]},
            "evidence": r["evidence"]}


@bp.get("/api/stops/matches")
@access(EVERYONE)
def matches():
    bbox = parse_bbox(request.args.get("bbox"))
    limit, offset = _paging()
    queries.snapshot()
    rows, total = queries.matches(bbox, limit, offset)
    return _page("matches", [match_item(r) for r in rows], total, limit, offset)


@bp.get("/api/stops/problems")
@access(EVERYONE)
def problems():
    flt = queries.ProblemFilter.from_args(request.args)
    limit, offset = _paging()
    queries.snapshot()
    rows, total = queries.problems(flt, limit, offset)
    return _page("problems", [problem_item(r) for r in rows], total, limit, offset)


@bp.get("/api/stops/statistics")
@access(EVERYONE)
def statistics():
    bbox = parse_bbox(request.args.get("bbox"))
    queries.snapshot()
    return jsonify(queries.statistics(bbox))


@bp.get("/api/stops/matches.<fmt>")
@access(EVERYONE)
def export_matches(fmt: str):
    _check_format(fmt)
    bbox = parse_bbox(request.args.get("bbox"))
    queries.snapshot()
    rows = queries.export_rows("matches", bbox)
    if fmt == "csv":
        return _csv("stop-matches", MATCH_CSV, rows)
    features = [{"type": "Feature", "id": f"{r['official_id']}|{r['osm_key']}",
                 "geometry": {"type": "LineString", "coordinates": [
                     [r["official_lon"], r["official_lat"]], [r["osm_lon"], r["osm_lat"]]]},
                 "properties": {k: v for k, v in match_item(r).items()
                                if k not in ("official", "osm")}} for r in rows]
    return _geojson("stop-matches", features)


@bp.get("/api/stops/problems.<fmt>")
@access(EVERYONE)
def export_problems(fmt: str):
    _check_format(fmt)
    flt = queries.ProblemFilter.from_args(request.args)
    queries.snapshot()
    rows = queries.export_rows("problems", flt.bbox, flt)
    if fmt == "csv":
        return _csv("stop-problems", PROBLEM_CSV, [
            {**r, "status": "open" if r["decision_id"] is None else "resolved",
             "evidence": orjson.dumps(r["evidence"]).decode()} for r in rows])
    features = [{"type": "Feature", "id": r["id"],
                 "geometry": None if r["lon"] is None else {
                     "type": "Point", "coordinates": [r["lon"], r["lat"]]},
                 "properties": {k: v for k, v in problem_item(r).items()
                                if k not in ("id", "position")}} for r in rows]
    return _geojson("stop-problems", features)


def _check_format(fmt: str) -> None:
    if fmt not in ("csv", "geojson"):
        raise InputError(f"unknown export format {fmt!r}: use csv or geojson")


def _csv(name: str, columns: tuple[str, ...], rows: list[dict]) -> Response:
    return csv_download(rows, f"{name}.csv", columns)


def _geojson(name: str, features: list) -> Response:
    return geojson_download(features, f"{name}.geojson")
