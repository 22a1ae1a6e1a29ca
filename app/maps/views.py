from __future__ import annotations

from flask import Blueprint, Response, current_app, render_template

from app.extensions import limiter
from app.maps.tiles import osm_tile, rides_tile

bp = Blueprint("maps", __name__)


@bp.get("/")
def index():
    return render_template("map.html")


@bp.get("/tiles/osm/<int:z>/<int:x>/<int:y>.mvt")
@limiter.limit(lambda: current_app.config["PORTAL"].ratelimit_tiles, override_defaults=True)
def tile(z: int, x: int, y: int):
    data = osm_tile(z, x, y)
    return Response(data, mimetype="application/vnd.mapbox-vector-tile",
                    headers={"Cache-Control": "public, max-age=60"})


@bp.get("/tiles/rides/<int:z>/<int:x>/<int:y>.mvt")
@limiter.limit(lambda: current_app.config["PORTAL"].ratelimit_tiles, override_defaults=True)
def rides_tile_view(z: int, x: int, y: int):
    # short max-age: a processed ride should show on the map within seconds
    return Response(rides_tile(z, x, y), mimetype="application/vnd.mapbox-vector-tile",
                    headers={"Cache-Control": "public, max-age=10"})
