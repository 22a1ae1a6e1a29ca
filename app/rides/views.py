"""Ride pages: my rides, upload, one ride, public rides, statistics, settings."""

from __future__ import annotations

from flask import Blueprint, g, redirect, render_template, request, url_for

from app.auth.access import ADMIN, EVERYONE, LOGIN, OWNER, USERS, access
from app.auth.decorators import login_required
from app.downloads import download, geojson_download
from app.params import parse_date
from app.rides import exports, queries, service
from app.rides.api import request_filter
from matching_and_import_db.errors import InputError
from matching_and_import_db.rides.visibility import RideFilter

bp = Blueprint("rides", __name__)

STATUSES = ("queued", "processing", "complete", "error")


@bp.get("/rides/mine")
@access(USERS, anonymous=LOGIN)
@login_required
def mine():
    args = request.args
    status = args.get("status") or None
    if status and status not in STATUSES:
        raise InputError(f"unknown status {status!r}")
    rides, total = service.list_rides(
        owner_id=g.user.id, status=status, visibility=args.get("visibility") or None,
        date_from=parse_date(args.get("from"), "from"),
        date_to=parse_date(args.get("to"), "to"),
        sort=args.get("sort", "recorded"), descending=args.get("order", "desc") != "asc",
        limit=500)
    return render_template("rides/mine.html", rides=rides, total=total, args=args,
                           statuses=STATUSES, sorts=service.SORTS)


@bp.get("/rides/upload")
@access(USERS, anonymous=LOGIN)
@login_required
def upload_page():
    return render_template("rides/upload.html")


@bp.post("/rides/upload")
@access(USERS, anonymous=LOGIN)
@login_required
def upload_form():
    """Without JavaScript: several files in one form post, a result line for each."""
    results = []
    for file in request.files.getlist("files"):
        try:
            ride, created = service.accept_upload(g.user, file.filename, file.read(),
                                                   via="browser")
            results.append((file.filename, ride, created, None))
        except InputError as exc:
            results.append((file.filename, None, False, str(exc)))
    status = 200 if all(r[3] is None for r in results) and results else 422
    return render_template("rides/upload.html", results=results), status


@bp.get("/rides/<int:ride_id>")
@access({OWNER}, public=EVERYONE)
def detail(ride_id: int):
    ride = service.visible_ride(ride_id, g.get("user"))
    owner = service.is_owner(ride, g.get("user"))
    admin = g.get("user") is not None and g.user.has_role("admin")
    return render_template("rides/detail.html", ride=ride, owner=owner,
                           can_reprocess=owner or admin, can_delete=owner or admin)


@bp.post("/rides/<int:ride_id>/visibility")
@access({OWNER}, anonymous=LOGIN)
@login_required
def set_visibility(ride_id: int):
    ride = service.own_ride(ride_id, g.user)
    service.set_visibility(ride, request.form.get("public") == "1")
    return redirect(url_for("rides.detail", ride_id=ride_id))


@bp.post("/rides/<int:ride_id>/title")
@access({OWNER}, anonymous=LOGIN)
@login_required
def set_title(ride_id: int):
    service.update_title(service.own_ride(ride_id, g.user), request.form.get("title", ""))
    return redirect(url_for("rides.detail", ride_id=ride_id))


@bp.post("/rides/<int:ride_id>/reprocess")
@access({OWNER, ADMIN}, anonymous=LOGIN)
@login_required
def reprocess(ride_id: int):
    service.reprocess([service.own_ride(ride_id, g.user, allow_admin=True).id])
    return redirect(url_for("rides.detail", ride_id=ride_id))


@bp.post("/rides/<int:ride_id>/delete")
@access({OWNER, ADMIN}, anonymous=LOGIN)
@login_required
def delete(ride_id: int):
    """The owner, or an admin (who may remove a ride without being able to see it)."""
    ride = service.own_ride(ride_id, g.user, allow_admin=True)
    service.delete_rides(ride.user_id, [ride.id])
    return redirect(url_for("rides.mine"))


@bp.post("/rides/delete-all")
@access(USERS, anonymous=LOGIN)
@login_required
def delete_all():
    if request.form.get("confirm") != "delete":
        raise InputError("type 'delete' to confirm that all your rides and settings go")
    service.delete_all_my_data(g.user)
    return redirect(url_for("rides.mine"))


@bp.get("/rides/<int:ride_id>/raw")
@access({OWNER}, anonymous=LOGIN)
@login_required
def raw(ride_id: int):
    ride = service.own_ride(ride_id, g.user)
    name = ride.original_filename or f"ride-{ride.id}.csv"
    return download(service.raw_file(ride), name, "application/octet-stream")


@bp.get("/rides/<int:ride_id>/export.<fmt>")
@access({OWNER}, public=EVERYONE)
def export(ride_id: int, fmt: str):
    viewer = g.get("user")
    ride = service.visible_ride(ride_id, viewer)
    geodata = queries.ride_geodata(ride, viewer)
    if fmt == "gpx":
        return download(exports.ride_gpx(ride, geodata), f"ride-{ride.id}.gpx",
                        "application/gpx+xml")
    if fmt == "geojson":
        features = [{"type": "Feature", "geometry": geodata["snapped"],
                     "properties": {"kind": "snapped", **service.ride_as_dict(ride, viewer)}}]
        if geodata["raw"]:
            features.append({"type": "Feature", "geometry": geodata["raw"],
                             "properties": {"kind": "recorded"}})
        features += geodata["events"]["features"]
        features += exports.snap_features(queries.ride_snaps(ride, viewer, geodata))
        return geojson_download(features, f"ride-{ride.id}.geojson")
    if fmt == "csv":  # one line per fix: where it was snapped
        return download(exports.snaps_to_csv(queries.ride_snaps(ride, viewer, geodata)),
                        f"ride-{ride.id}-snaps.csv", "text/csv")
    raise InputError(f"unknown export format {fmt!r}: use gpx, geojson or csv")


@bp.get("/rides")
@access(EVERYONE)
def public():
    rides, total = service.list_rides(public_only=True, sort="recorded", limit=200)
    return render_template("rides/public.html", rides=rides, total=total)


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
    return render_template("rides/statistics.html", mine=mine, everyone=everyone,
                           args=request.args)
