"""GBFS views: the feeds for operators (list, add), a station's history for the map's panel,
and every feed re-published as GBFS 2.3 and 3.0 (open to everyone, like the map)."""

from __future__ import annotations

import orjson
from flask import Response, jsonify, redirect, request, url_for

from app.auth.access import EVERYONE, LOGIN, OPERATORS, access
from app.auth.decorators import role_required
from app.live import gbfs_service as service
from app.live.blueprint import bp
from matching_and_import_db.errors import InputError
from matching_and_import_db.tilecache import etag_of


@bp.get("/api/live/feeds")
@access(OPERATORS, anonymous=401)
@role_required("operator")
def api_feeds():
    return jsonify({"feeds": [service.feed_as_dict(f) for f in service.list_feeds()]})


def _feed_from_request():
    """A feed from a JSON body, or from the pipelines page's form (headers as JSON text)."""
    body = request.get_json(silent=True) if request.is_json else None
    if body is None:
        form = request.form
        body = {"slug": form.get("slug"), "url": form.get("url"),
                "headers": form.get("headers"),
                "language": form.get("language")}
    if not isinstance(body, dict):
        raise InputError('send a JSON object: {"slug": ..., "url": ..., "headers": {...}}')
    return service.create_feed(body.get("slug"), body.get("url"), body.get("headers"),
                               body.get("language"))


@bp.post("/api/live/feeds")
@access(OPERATORS, anonymous=401)
@role_required("operator")
def api_create_feed():
    return jsonify(service.feed_as_dict(_feed_from_request())), 201


@bp.post("/pipelines/gbfs-feeds")
@access(OPERATORS, anonymous=LOGIN)
@role_required("operator")
def create_feed_page():
    _feed_from_request()
    return redirect(url_for("pipelines.index", _anchor="gbfs"))


@bp.get("/api/live/stations/<feed>/<station_id>/history")
@access(EVERYONE)
def station_history(feed: str, station_id: str):
    return jsonify(service.station_history(feed, station_id,
                                           request.args.get("period", "day")))


@bp.get("/gbfs/<feed>/gbfs.json")
@access(EVERYONE)
def republished_root(feed: str):
    """The feed's auto-discovery file for apps that know no version yet: 2.3."""
    return republished(feed, "2.3", "gbfs")


@bp.get("/gbfs/<feed>/<version>/<name>.json")
@access(EVERYONE)
def republished(feed: str, version: str, name: str):
    base = url_for("live.republished", feed=feed, version=version, name="x",
                   _external=True).removesuffix("x.json")
    doc = service.republished(feed, version, name, base)
    body = orjson.dumps(doc.body)
    tag = etag_of(body)
    headers = {"ETag": f'"{tag}"', "Cache-Control": f"public, max-age={doc.ttl}"}
    if tag in request.if_none_match:
        return Response(status=304, headers=headers)
    return Response(body, mimetype="application/json", headers=headers)
