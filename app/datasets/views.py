"""/api/geo/{layer}: a catalog layer's features as GeoJSON (LautrerWissen's URL shape:
bbox, paging with limit/offset and a next link, property=value filters), and the whole
layer as a GeoJSON or CSV download. Published datasets are catalog layers, so each one is
served here as soon as its pipeline has published it."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlencode

import orjson
import shapely
from flask import Blueprint, Response, current_app, g, request, stream_with_context

from app.auth.access import EVERYONE, USERS, access
from app.downloads import attachment, csv_text
from app.ogc import features
from app.ogc.views import items_query
from matching_and_import_db.errors import InputError
from matching_and_import_db.layers.catalog import Layer, catalog

bp = Blueprint("datasets", __name__)

GEOJSON = "application/geo+json"
DEFAULT_LIMIT = 1000
EXPORT_PAGE = 10_000


def _page(layer: Layer, limit_default: int = DEFAULT_LIMIT) -> tuple[features.Query, int, str]:
    q = items_query(layer, default_limit=limit_default)
    count, text = features.items(layer, q)
    return q, count, text


@bp.get("/api/geo/<layer_id>")
@access(USERS, anonymous=404, public=EVERYONE)
def geo(layer_id: str):
    layer = catalog().get(layer_id, g.get("user"))
    q, count, text = _page(layer)
    links = []
    if count == q.limit:
        args = {**request.args.to_dict(), "offset": q.offset + q.limit, "limit": q.limit}
        base = current_app.config["PORTAL"].public_url.rstrip("/")
        links.append({"href": f"{base}/api/geo/{layer.id}?{urlencode(args)}", "rel": "next",
                      "type": GEOJSON})
    body = (b'{"type":"FeatureCollection","features":[' + text.encode() +
            b'],"numberReturned":' + str(count).encode() + b',"links":' +
            orjson.dumps(links) + b"}")
    return Response(body, mimetype=GEOJSON)


def _pages(layer: Layer):
    """The layer's features (with the request's filters) page by page, as text."""
    q = items_query(layer, default_limit=EXPORT_PAGE)
    q = features.Query(bbox=q.bbox, limit=EXPORT_PAGE, offset=0, dt_from=q.dt_from,
                       dt_to=q.dt_to, props=q.props, rides=q.rides)
    while True:
        count, text = features.items(layer, q)
        if count:
            yield text
        if count < q.limit or q.offset + q.limit > features.MAX_OFFSET:
            return
        q = features.Query(bbox=q.bbox, limit=q.limit, offset=q.offset + q.limit,
                           dt_from=q.dt_from, dt_to=q.dt_to, props=q.props, rides=q.rides)


def _csv_rows(layer: Layer, text: str) -> str:
    feats = orjson.loads("[" + text + "]")
    geoms = shapely.from_geojson([orjson.dumps(f["geometry"]).decode() if f["geometry"]
                                  else None for f in feats])
    wkts = shapely.to_wkt(geoms, rounding_precision=7, trim=True)
    columns = ["id", *(p.name for p in layer.properties), "wkt"]
    rows = ({"id": f["id"], **f["properties"], "wkt": w} for f, w in zip(feats, wkts,
                                                                         strict=True))
    return csv_text(rows, columns).split("\n", 1)[1]  # the header once, for the whole file


def _geojson_stream(pages) -> Iterator[bytes]:
    yield b'{"type":"FeatureCollection","features":['
    for i, text in enumerate(pages):
        yield (b"," if i else b"") + text.encode()
    yield b"]}"


def _csv_stream(layer: Layer, pages) -> Iterator[bytes]:
    yield csv_text([], ["id", *(p.name for p in layer.properties), "wkt"]).encode()
    for text in pages:
        yield _csv_rows(layer, text).encode()


@bp.get("/api/geo/<layer_id>.<fmt>")
@access(USERS, anonymous=404, public=EVERYONE)
def export(layer_id: str, fmt: str):
    """The whole layer, streamed page by page (EXPORT_PAGE features each): a large
    dataset's download never sits whole in a web worker's memory. A database error
    half-way ends the download short (the status line went out with the first page)."""
    layer = catalog().get(layer_id, g.get("user"))
    if fmt not in ("geojson", "csv"):
        raise InputError(f"unknown export format {fmt!r}: use geojson or csv")
    items_query(layer)  # bad parameters answer 400 before anything is read
    pages = _pages(layer)
    body = _geojson_stream(pages) if fmt == "geojson" else _csv_stream(layer, pages)
    return Response(stream_with_context(body),
                    mimetype=GEOJSON if fmt == "geojson" else "text/csv",
                    headers={"Content-Disposition": attachment(f"{layer.id}.{fmt}")})
