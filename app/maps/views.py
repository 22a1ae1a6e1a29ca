"""The map page, vector tiles of catalog layers (one or several per tile), TileJSON for
each, the MapLibre style and the catalog as JSON."""

from __future__ import annotations

from dataclasses import replace

from flask import Blueprint, Response, current_app, g, jsonify, render_template, request

from app.auth.access import EVERYONE, USERS, access
from app.extensions import limiter
from app.maps import arranged
from app.maps import style as styles
from app.maps.tiles import layers_tile
from matching_and_import_db.errors import NotFound
from matching_and_import_db.layers.catalog import Layer, catalog
from matching_and_import_db.rides.visibility import RideFilter

bp = Blueprint("maps", __name__)

MVT = "application/vnd.mapbox-vector-tile"
# older URLs: the OSM base and the ride results, each one tile of two layers
ALIASES = {"osm": ("roads", "stops"), "rides": ("road_stats", "events")}
MAX_LAYERS_PER_TILE = 12


def _tiles_limit():
    return current_app.config["PORTAL"].ratelimit_tiles


@bp.get("/")
@access(EVERYONE)
def index():
    return render_template("map.html",
                           basemap_style_url=arranged.basemap_url(
                               arranged.current_arrangement()))


def resolve_layers(spec: str) -> list[Layer]:
    ids = ALIASES.get(spec) or tuple(spec.split(","))
    if not ids or len(ids) > MAX_LAYERS_PER_TILE or len(set(ids)) != len(ids):
        raise NotFound(f"no layers {spec!r}")
    user = g.get("user")
    return [catalog().get(layer_id, user) for layer_id in ids]


def ride_filter() -> RideFilter:
    """Time range and "mine" from the query string, with the privacy rounding."""
    user = g.get("user")
    if not any(request.args.get(k) for k in ("from", "to", "mine")):
        return RideFilter(viewer_id=user.id if user else None)
    from app.rides.api import request_filter
    return replace(request_filter(with_bbox=False), viewer_id=user.id if user else None)


@bp.get("/tiles/<spec>/<int:z>/<int:x>/<int:y>.mvt")
@access(USERS, anonymous=404, public=EVERYONE)
@limiter.limit(_tiles_limit, override_defaults=True)
def tile(spec: str, z: int, x: int, y: int):
    tile = layers_tile(resolve_layers(spec), z, x, y, ride_filter())
    etag = f'"{tile.etag}"'
    headers = {"ETag": etag,
               # revalidate every time: a change shows on the very next request, and an
               # unchanged tile costs a 304 from the Redis cache
               "Cache-Control": ("public" if tile.shared else "private") + ", no-cache"}
    if not tile.shared:
        headers["Vary"] = "Cookie"
    if etag in request.if_none_match or tile.etag in request.if_none_match:
        return Response(status=304, headers=headers)
    return Response(tile.data, mimetype=MVT, headers=headers)


@bp.get("/tiles/<spec>/tilejson.json")
@access(USERS, anonymous=404, public=EVERYONE)
def tilejson(spec: str):
    layers = resolve_layers(spec)
    return jsonify(styles.tilejson(spec, layers, current_app.config["PORTAL"].public_url))


@bp.get("/styles/portal.json")
@access(EVERYONE)
def style():
    arrangement = arranged.current_arrangement()
    user = g.get("user")
    visible = catalog().visible(user)
    return no_store(jsonify(styles.style(
        visible, current_app.config["PORTAL"].public_url,
        arranged.placed_for(user, arrangement, visible), arranged.basemap_url(arrangement))))


@bp.get("/api/layers")
@access(EVERYONE)
def layers():
    return no_store(jsonify({"groups": arranged.groups_json(g.get("user"))}))


def no_store(response: Response) -> Response:
    """The style and the catalog follow the admins' arrangement: a browser asks again on
    every load (they are small), so a change shows on the next one."""
    response.headers["Cache-Control"] = "no-cache"
    response.headers["Vary"] = "Cookie"
    return response
