"""Ride pages: my rides, upload, one ride, public rides, statistics, settings."""

from __future__ import annotations

from flask import Blueprint, g, redirect, render_template, request, url_for

from app.auth.access import ADMIN, EVERYONE, LOGIN, OWNER, USERS, access
from app.auth.decorators import login_required
from app.downloads import download, geojson_download
from app.params import parse_date
from app.tracks import exports, queries, service
from app.tracks.api import request_filter
from matching_and_import_db.errors import InputError
from matching_and_import_db.tracks.visibility import RideFilter

bp = Blueprint("tracks", __name__)

STATUSES = ("queued", "processing", "complete", "error")


@bp.get("/tracks")
@access(USERS, anonymous=LOGIN)
@login_required
def mine():
    args = request.args
    status = args.get("status") or None
    if status and status not in STATUSES:
        raise InputError(f"unknown status {status!r}")
    tracks, total = service.list_tracks(
        owner_id=g.user.id, status=status, visibility=args.get("visibility") or None,
        date_from=parse_date(args.get("from"), "from"),
        date_to=parse_date(args.get("to"), "to"),
        sort=args.get("sort", "recorded"), descending=args.get("order", "desc") != "asc",
        limit=500)
    return render_template("tracks/mine.html", tracks=tracks, total=total, args=args,
                           statuses=STATUSES, sorts=service.SORTS)


@bp.get("/tracks/upload")
@access(USERS, anonymous=LOGIN)
@login_required
def upload_page():
    return render_template("tracks/upload.html")


@bp.post("/tracks/upload")
@access(USERS, anonymous=LOGIN)
@login_required
def upload_form():
    """Without JavaScript: several files in one form post, a result line for each."""
    results = []
    for file in request.files.getlist("files"):
        try:
            track, created = service.accept_upload(g.user, file.filename, file.read(),
                                                   via="browser")
            results.append((file.filename, track, created, None))
        except InputError as exc:
            results.append((file.filename, None, False, str(exc)))
    status = 200 if all(r[3] is None for r in results) and results else 422
    return render_template("tracks/upload.html", results=results), status


@bp.get("/tracks/<int:track_id>")
@access({OWNER}, public=EVERYONE)
def detail(track_id: int):
    track = service.visible_track(track_id, g.get("user"))
    owner = service.is_owner(track, g.get("user"))
    admin = g.get("user") is not None and g.user.has_role("admin")
    return render_template("tracks/detail.html", track=track, owner=owner,
                           can_reprocess=owner or admin, can_delete=owner or admin)


@bp.post("/tracks/<int:track_id>/visibility")
@access({OWNER}, anonymous=LOGIN)
@login_required
def set_visibility(track_id: int):
    track = service.own_track(track_id, g.user)
    service.set_visibility(track, request.form.get("public") == "1")
    return redirect(url_for("tracks.detail", track_id=track_id))


@bp.post("/tracks/<int:track_id>/title")
@access({OWNER}, anonymous=LOGIN)
@login_required
def set_title(track_id: int):
    service.update_title(service.own_track(track_id, g.user), request.form.get("title", ""))
    return redirect(url_for("tracks.detail", track_id=track_id))


@bp.post("/tracks/<int:track_id>/reprocess")
@access({OWNER, ADMIN}, anonymous=LOGIN)
@login_required
def reprocess(track_id: int):
    service.reprocess([service.own_track(track_id, g.user, allow_admin=True).id])
    return redirect(url_for("tracks.detail", track_id=track_id))


@bp.post("/tracks/<int:track_id>/delete")
@access({OWNER, ADMIN}, anonymous=LOGIN)
@login_required
def delete(track_id: int):
    """The owner, or an admin (who may remove a ride without being able to see it)."""
    track = service.own_track(track_id, g.user, allow_admin=True)
    service.delete_tracks(track.user_id, [track.id])
    return redirect(url_for("tracks.mine"))


@bp.post("/tracks/delete-all")
@access(USERS, anonymous=LOGIN)
@login_required
def delete_all():
    if request.form.get("confirm") != "delete":
        raise InputError("type 'delete' to confirm that all your rides and settings go")
    service.delete_all_my_data(g.user)
    return redirect(url_for("tracks.mine"))


@bp.get("/tracks/<int:track_id>/raw")
@access({OWNER}, anonymous=LOGIN)
@login_required
def raw(track_id: int):
    track = service.own_track(track_id, g.user)
    name = track.original_filename or f"track-{track.id}.csv"
    return download(service.raw_file(track), name, "application/octet-stream")


@bp.get("/tracks/<int:track_id>/export.<fmt>")
@access({OWNER}, public=EVERYONE)
def export(track_id: int, fmt: str):
    viewer = g.get("user")
    track = service.visible_track(track_id, viewer)
    geodata = queries.track_geodata(track, viewer)
    if fmt == "gpx":
        return download(exports.track_gpx(track, geodata), f"track-{track.id}.gpx",
                        "application/gpx+xml")
    if fmt == "geojson":
        features = [{"type": "Feature", "geometry": geodata["snapped"],
                     "properties": {"kind": "snapped", **service.track_as_dict(track, viewer)}}]
        if geodata["raw"]:
            features.append({"type": "Feature", "geometry": geodata["raw"],
                             "properties": {"kind": "recorded"}})
        features += geodata["events"]["features"]
        features += exports.snap_features(queries.track_snaps(track, viewer, geodata))
        return geojson_download(features, f"track-{track.id}.geojson")
    if fmt == "csv":  # one line per fix: where it was snapped
        return download(exports.snaps_to_csv(queries.track_snaps(track, viewer, geodata)),
                        f"track-{track.id}-snaps.csv", "text/csv")
    raise InputError(f"unknown export format {fmt!r}: use gpx, geojson or csv")


@bp.get("/rides")
@access(EVERYONE)
def public():
    tracks, total = service.list_tracks(public_only=True, sort="recorded", limit=200)
    return render_template("tracks/public.html", tracks=tracks, total=total)


@bp.get("/statistics")
@access(EVERYONE)
def statistics():
    flt = request_filter(with_bbox=False)
    mine = None
    if g.get("user") is not None:
        mine = queries.summary(RideFilter(
            viewer_id=g.user.id, mine=True,
            date_from=parse_date(request.args.get("from"), "from"),
            date_to=parse_date(request.args.get("to"), "to")))
    everyone = queries.summary(RideFilter(date_from=flt.date_from, date_to=flt.date_to))
    return render_template("tracks/statistics.html", mine=mine, everyone=everyone,
                           args=request.args)
