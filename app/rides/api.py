"""The rides API: device upload (the OpenBikeSensor firmware's own protocol), ride data,
road statistics, summaries and exports."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, g, jsonify, request
from werkzeug.exceptions import Unauthorized

from app.auth.access import EVERYONE, OWNER, USERS, access
from app.downloads import download, geojson_download
from app.extensions import csrf, limiter
from app.params import parse_bbox, parse_date, parse_int
from app.rides import exports, queries, service
from app.rides.privacy import round_to_weeks
from matching_and_import_db.errors import InputError
from matching_and_import_db.rides.visibility import RideFilter

bp = Blueprint("rides_api", __name__)

API_KEY_SCHEME = "obsuserid"  # Authorization: OBSUserId <key>, as the firmware sends it


def _device_user():
    """The user named by an API key, or None when the request carries no key."""
    header = request.headers.get("Authorization", "")
    scheme, _, key = header.partition(" ")
    if not header:
        return None
    if scheme.lower() != API_KEY_SCHEME:
        raise Unauthorized("use 'Authorization: OBSUserId <API key>' (the key is on your "
                           "settings page)")
    user = service.user_for_api_key(key)
    if user is None:
        raise Unauthorized("the API key is not valid (regenerated or deleted?)")
    return user


def _api_user():
    user = _device_user() or g.get("user")
    if user is None:
        raise Unauthorized("log in, or send 'Authorization: OBSUserId <API key>'")
    return user


def _bool_arg(value: str | None) -> bool | None:
    if value is None or value == "":
        return None
    low = value.lower()
    if low in ("1", "true", "yes", "public"):
        return True
    if low in ("0", "false", "no", "private"):
        return False
    raise InputError(f"expected true or false, got {value!r}")


@bp.post("/api/rides")
@access(USERS, anonymous=401)
@csrf.exempt  # devices sign with their API key; browser sessions are checked below
@limiter.limit(lambda: current_app.config["PORTAL"].ratelimit_upload)
def upload():
    device_user = _device_user()
    if device_user is None:
        csrf.protect()  # a browser's session cookie alone must not be able to upload
    user = device_user or _api_user()
    file = request.files.get("body") or request.files.get("file")
    if file is not None:
        filename, data = file.filename, file.read()
    elif request.files:
        raise InputError("put the ride in the multipart field 'body'")
    else:  # the raw body is the file
        filename, data = request.args.get("filename"), request.get_data()
    ride, created = service.accept_upload(
        user, filename, data, via="api" if device_user else "browser",
        public=_bool_arg(request.form.get("public") or request.args.get("public")),
        title=request.form.get("title") or request.args.get("title"))
    body = {"ride": service.ride_as_dict(ride, user), "created": created}
    body["track"] = body["ride"]  # the name the OBS firmware and old clients read
    return jsonify(body), 201 if created else 200


@bp.get("/api/rides")
@access(USERS, anonymous=401)
def my_rides():
    user = _api_user()
    rides, total = service.list_rides(
        owner_id=user.id, limit=parse_int(request.args.get("limit"), "limit", 100, 1, 1000),
        offset=parse_int(request.args.get("offset"), "offset", 0, 0, 10**9))
    return jsonify({"total": total, "rides": [service.ride_as_dict(t, user) for t in rides]})


@bp.get("/api/rides/<int:ride_id>")
@access({OWNER}, public=EVERYONE)
def ride(ride_id: int):
    viewer = _device_user() or g.get("user")
    return jsonify({"ride": service.ride_as_dict(service.visible_ride(ride_id, viewer),
                                                   viewer)})


@bp.get("/api/rides/<int:ride_id>/data")
@access({OWNER}, public=EVERYONE)
def ride_data(ride_id: int):
    viewer = g.get("user")
    t = service.visible_ride(ride_id, viewer)
    return jsonify({"ride": service.ride_as_dict(t, viewer),
                    **queries.ride_geodata(t, viewer)})


@bp.get("/api/roads/<int:way_id>")
@access(EVERYONE)
def road(way_id: int):
    return jsonify(queries.road_detail(way_id))


def request_filter(with_bbox: bool = True) -> RideFilter:
    """The filter from the query string: mine=1 is the viewer's own rides (exact times);
    otherwise public rides, with the time range widened to whole weeks."""
    date_from = parse_date(request.args.get("from"), "from")
    date_to = parse_date(request.args.get("to"), "to")
    if date_from and date_to and date_from >= date_to:
        raise InputError("from must be before to")
    mine = _bool_arg(request.args.get("mine")) or False
    user = g.get("user")
    if mine and user is None:
        raise Unauthorized("log in to filter your own rides")
    if not mine:
        date_from, date_to = round_to_weeks(date_from, date_to)
    return RideFilter(viewer_id=user.id if mine else None, mine=mine,
                      date_from=date_from, date_to=date_to,
                      bbox=parse_bbox(request.args.get("bbox")) if with_bbox else None)


@bp.get("/api/statistics")
@access(EVERYONE)
def statistics():
    return jsonify(queries.summary(request_filter(with_bbox=False)))


@bp.get("/api/export/events.<fmt>")
@access(EVERYONE)
def export_events(fmt: str):
    return _export(queries.events(request_filter()), fmt, "events")


@bp.get("/api/export/roads.<fmt>")
@access(EVERYONE)
def export_roads(fmt: str):
    return _export(queries.road_statistics(request_filter()), fmt, "roads")


def _export(rows, fmt: str, name: str) -> Response:
    if fmt == "geojson":
        return geojson_download(queries.feature_collection(rows)["features"],
                                f"{name}.geojson")
    if fmt == "csv":
        return download(exports.rows_to_csv(rows), f"{name}.csv", "text/csv")
    raise InputError(f"unknown export format {fmt!r}: use geojson or csv")
