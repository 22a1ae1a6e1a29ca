"""OGC API Features (Part 1: Core, GeoJSON, HTML, OpenAPI 3.0) under /ogc. Views parse
the request, call app.ogc.features, and shape JSON or HTML (f=json|html, else Accept)."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import urlencode

import orjson
from flask import Blueprint, Response, current_app, g, render_template, request

from app.auth.access import EVERYONE, OWNER, USERS, access
from app.errors import error_response, status_of
from app.maps.views import ride_filter
from app.ogc import features
from app.ogc.openapi import openapi_document
from app.params import parse_bbox, parse_int
from matching_and_import_db.errors import DomainError, InputError
from matching_and_import_db.layers.catalog import Layer, catalog
from matching_and_import_db.layers.query import effective_filter

bp = Blueprint("ogc", __name__, url_prefix="/ogc")

GEOJSON = "application/geo+json"
CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/html",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
]
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
ITEM_PARAMS = {"f", "bbox", "limit", "offset", "datetime", "from", "to", "mine", "bbox-crs"}


def _html() -> bool:
    fmt = request.args.get("f")
    if fmt is not None:  # f= (empty) too: the document says json or html
        if fmt not in ("json", "html"):
            raise InputError("f must be json or html")
        return fmt == "html"
    best = request.accept_mimetypes.best_match(["application/json", GEOJSON, "text/html"])
    return best == "text/html"


def _base() -> str:
    return current_app.config["PORTAL"].public_url.rstrip("/") + "/ogc"


def _json(doc: dict | bytes, mimetype: str = "application/json") -> Response:
    body = doc if isinstance(doc, bytes) else orjson.dumps(doc)
    return Response(body, mimetype=mimetype)


def _links(path: str, title: str, json_type: str = "application/json") -> list[dict]:
    base = _base() + path
    html = _html()
    return [{"href": f"{base}?f={'html' if html else 'json'}", "rel": "self",
             "type": "text/html" if html else json_type, "title": title},
            {"href": f"{base}?f={'json' if html else 'html'}", "rel": "alternate",
             "type": json_type if html else "text/html", "title": title}]


@bp.get("/")
@access(EVERYONE)
def landing():
    base = _base()
    doc = {"title": "Mobility Data Portal",
           "description": "Every published layer of the portal as OGC API Features.",
           "links": _links("/", "this document") + [
               {"href": f"{base}/api", "rel": "service-desc",
                "type": "application/vnd.oai.openapi+json;version=3.0",
                "title": "the API definition"},
               {"href": f"{base}/api?f=html", "rel": "service-doc", "type": "text/html",
                "title": "the API documentation"},
               {"href": f"{base}/conformance", "rel": "conformance",
                "type": "application/json", "title": "conformance classes"},
               {"href": f"{base}/collections", "rel": "data", "type": "application/json",
                "title": "collections"}]}
    if _html():
        return render_template("ogc/landing.html", doc=doc)
    return _json(doc)


@bp.get("/conformance")
@access(EVERYONE)
def conformance():
    doc = {"conformsTo": CONFORMANCE}
    if _html():
        return render_template("ogc/conformance.html", doc=doc)
    return _json(doc)


@bp.get("/api")
@access(EVERYONE)
def api():
    doc = openapi_document(_base(), catalog().visible(g.get("user")))
    if _html():
        return render_template("ogc/api.html", doc=doc,
                               text=orjson.dumps(doc, option=orjson.OPT_INDENT_2).decode())
    return _json(doc, "application/vnd.oai.openapi+json;version=3.0")


def _collection(layer: Layer) -> dict:
    base = f"{_base()}/collections/{layer.id}"
    doc = {"id": layer.id, "title": layer.title, "description": layer.description,
           "itemType": "feature", "crs": [CRS84],
           "extent": {"spatial": {"bbox": [[-180.0, -90.0, 180.0, 90.0]], "crs": CRS84}},
           "links": [{"href": base, "rel": "self", "type": "application/json",
                      "title": layer.title},
                     {"href": f"{base}?f=html", "rel": "alternate", "type": "text/html",
                      "title": layer.title},
                     {"href": f"{base}/items", "rel": "items", "type": GEOJSON,
                      "title": "items as GeoJSON"},
                     {"href": f"{base}/items?f=html", "rel": "items", "type": "text/html",
                      "title": "items as HTML"}],
           "properties": {p.name: p.type for p in layer.properties},
           "group": layer.group}
    if layer.datetime_sql:
        doc["extent"]["temporal"] = {"interval": [[None, None]]}
    return doc


@bp.get("/collections")
@access(EVERYONE)
def collections():
    layers = catalog().visible(g.get("user"))
    doc = {"collections": [_collection(la) for la in layers],
           "links": _links("/collections", "collections")}
    if _html():
        return render_template("ogc/collections.html", doc=doc)
    return _json(doc)


@bp.get("/collections/<layer_id>")
@access(USERS, anonymous=404, public=EVERYONE)
def collection(layer_id: str):
    doc = _collection(catalog().get(layer_id, g.get("user")))
    if _html():
        return render_template("ogc/collection.html", doc=doc)
    return _json(doc)


def items_query(layer: Layer, default_limit: int = features.DEFAULT_LIMIT) -> features.Query:
    """The request's items parameters (also /api/geo's, app/datasets/views.py)."""
    args = request.args
    props = {}
    for name in args:
        if name in ITEM_PARAMS:
            continue
        try:
            prop = layer.property(name)
        except KeyError:
            raise InputError(f"unknown parameter {name!r}; filter by one of the properties "
                             f"{', '.join(p.name for p in layer.properties)}") from None
        props[name] = features.check_property_value(prop, args[name])
    for name in ("bbox", "limit", "offset"):  # the document gives them no empty form
        if args.get(name) == "":
            raise InputError(f"{name} is empty: leave it out or give a value")
    if args.get("bbox-crs") not in (None, "", CRS84):
        raise InputError(f"bbox-crs must be {CRS84}")
    dt_from, dt_to = features.parse_datetime(args.get("datetime"))
    rides = ride_filter()
    if layer.datetime_sql and layer.rides and not effective_filter(layer, rides).mine:
        # other people's rides: the same whole weeks as every other view of them
        rides = features.widen_datetime_to_weeks(rides, dt_from, dt_to)
        dt_from = dt_to = None
    return features.Query(
        bbox=features.clamp_to_web_mercator(parse_bbox(args.get("bbox"))),
        limit=parse_int(args.get("limit"), "limit", default_limit, 1,
                        features.MAX_LIMIT, clamp=True),
        offset=parse_int(args.get("offset"), "offset", 0, 0, 10 ** 9),
        dt_from=dt_from, dt_to=dt_to, props=props, rides=rides)


def _page_link(layer_id: str, offset: int, rel: str, fmt: str) -> dict:
    args = {k: v for k, v in request.args.items() if k != "f"}
    args.update(offset=offset, f=fmt)
    return {"href": f"{_base()}/collections/{layer_id}/items?{urlencode(args)}", "rel": rel,
            "type": "text/html" if fmt == "html" else GEOJSON, "title": f"{rel} page"}


@bp.get("/collections/<layer_id>/items")
@access(USERS, anonymous=404, public=EVERYONE)
def items(layer_id: str):
    layer = catalog().get(layer_id, g.get("user"))
    q = items_query(layer)
    count, text = features.items(layer, q)
    html = _html()
    fmt = "html" if html else "json"
    links = [_page_link(layer_id, q.offset, "self", fmt),
             _page_link(layer_id, q.offset, "alternate", "json" if html else "html"),
             {"href": f"{_base()}/collections/{layer_id}", "rel": "collection",
              "type": "application/json", "title": layer.title}]
    if count == q.limit:
        links.append(_page_link(layer_id, q.offset + q.limit, "next", fmt))
    if q.offset > 0:
        links.append(_page_link(layer_id, max(0, q.offset - q.limit), "prev", fmt))
    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    body = (b'{"type":"FeatureCollection","features":[' + text.encode() +
            b'],"numberReturned":' + str(count).encode() + b',"timeStamp":"' +
            stamp.encode() + b'","links":' + orjson.dumps(links) + b"}")
    if html:
        return render_template("ogc/items.html", layer=layer, doc=orjson.loads(body),
                               links=links)
    return _json(body, GEOJSON)


@bp.get("/collections/<layer_id>/items/<feature_id>")
@access({OWNER}, public=EVERYONE)
def item(layer_id: str, feature_id: str):
    layer = catalog().get(layer_id, g.get("user"))
    text = features.item(layer, feature_id, ride_filter())
    base = f"{_base()}/collections/{layer_id}"
    links = [{"href": f"{base}/items/{feature_id}", "rel": "self", "type": GEOJSON},
             {"href": f"{base}/items/{feature_id}?f=html", "rel": "alternate",
              "type": "text/html"},
             {"href": base, "rel": "collection", "type": "application/json"}]
    body = text[:-1].encode() + b',"links":' + orjson.dumps(links) + b"}"
    if _html():
        return render_template("ogc/item.html", layer=layer, feature=orjson.loads(body))
    return _json(body, GEOJSON)


@bp.errorhandler(DomainError)
def _domain_error(exc: DomainError):
    """OGC clients get JSON errors unless they asked for HTML."""
    status, code = status_of(exc)
    try:
        html = _html()
    except InputError:
        html = False
    if html:
        return error_response(status, code, str(exc))
    return _json({"code": code, "description": str(exc)}), status
