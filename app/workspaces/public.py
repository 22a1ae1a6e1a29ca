"""A workspace's published maps: tiles, TileJSON, MapLibre style and a page, open to
everyone when the map is listed, with its token (?token=) when it is unlisted. Tiles go
the portal's one tile path (app/maps/tiles.py) with its Redis cache."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, render_template, request

from app.auth.access import EVERYONE, access
from app.extensions import limiter
from app.maps import style as styles
from app.maps.tiles import layers_tile
from app.workspaces import service
from app.workspaces.access import EVERYONE as WS_EVERYONE
from app.workspaces.access import workspace_access
from matching_and_import_db.layers.query import RideFilter

bp = Blueprint("workspace_maps", __name__, url_prefix="/w/<slug>/maps/<map_slug>")
MVT = "application/vnd.mapbox-vector-tile"


def _tiles_limit():
    return current_app.config["PORTAL"].ratelimit_tiles


def _published(slug: str, map_slug: str):
    return service.published_map(slug, map_slug, request.args.get("token"))


def _base(slug: str, map_slug: str) -> str:
    return f"{current_app.config['PORTAL'].public_url.rstrip('/')}/w/{slug}/maps/{map_slug}"


def _token_query() -> str:
    token = request.args.get("token")
    return f"?token={token}" if token else ""


@bp.get("/tiles/<int:z>/<int:x>/<int:y>.mvt")
@access(EVERYONE)
@workspace_access(WS_EVERYONE)
@limiter.limit(_tiles_limit, override_defaults=True)
def tile(slug: str, map_slug: str, z: int, x: int, y: int):
    _, m, _, layers = _published(slug, map_slug)
    tile = layers_tile(layers, z, x, y, RideFilter())
    etag = f'"{tile.etag}"'
    headers = {"ETag": etag, "Cache-Control": ("public" if m.listed else "private")
               + ", no-cache"}
    if etag in request.if_none_match or tile.etag in request.if_none_match:
        return Response(status=304, headers=headers)
    return Response(tile.data, mimetype=MVT, headers=headers)


@bp.get("/tilejson.json")
@access(EVERYONE)
@workspace_access(WS_EVERYONE)
def tilejson(slug: str, map_slug: str):
    _, m, definition, layers = _published(slug, map_slug)
    out = styles.tilejson(m.slug, layers, current_app.config["PORTAL"].public_url)
    out.update(name=definition.title, minzoom=definition.minzoom, maxzoom=definition.maxzoom,
               tiles=[_base(slug, map_slug) + "/tiles/{z}/{x}/{y}.mvt" + _token_query()])
    return out


@bp.get("/style.json")
@access(EVERYONE)
@workspace_access(WS_EVERYONE)
def style(slug: str, map_slug: str):
    _, m, definition, layers = _published(slug, map_slug)
    out = styles.style(layers, current_app.config["PORTAL"].public_url)
    for source in out["sources"].values():
        source["url"] = _base(slug, map_slug) + "/tilejson.json" + _token_query()
    out["name"] = definition.title
    return out


@bp.get("/")
@access(EVERYONE)
@workspace_access(WS_EVERYONE)
def page(slug: str, map_slug: str):
    ws, m, definition, layers = _published(slug, map_slug)
    return render_template("workspaces/map.html", workspace=ws, map=m,
                           definition=definition,
                           style_url=_base(slug, map_slug) + "/style.json" + _token_query())
