"""The OpenAPI 3.0 document of the OGC API Features endpoints, one items path per
collection with its property filters."""

from __future__ import annotations

from app.ogc.features import DATETIME_PATTERN, MAX_LIMIT, MAX_OFFSET
from app.params import MAX_DATE, MIN_DATE
from matching_and_import_db.layers.catalog import Layer

GEOJSON = "application/geo+json"
OPENAPI_TYPE = "application/vnd.oai.openapi+json;version=3.0"
TYPES = {"string": "string", "integer": "integer", "number": "number", "boolean": "boolean"}


def _param(name: str, description: str, schema: dict, style: dict | None = None) -> dict:
    return {"name": name, "in": "query", "required": False, "description": description,
            "schema": schema, **(style or {})}


COMMON = [
    _param("f", "Response format", {"type": "string", "enum": ["json", "html"]}),
]
ITEMS = [
    _param("bbox", "min lon, min lat, max lon, max lat (CRS84)",
           {"type": "array", "minItems": 4, "maxItems": 6, "items": {"type": "number"}},
           {"style": "form", "explode": False}),
    # no maximum: a larger limit is lowered to it, as OGC API Features asks, not refused
    _param("limit", f"Features per page (at most {MAX_LIMIT} are returned)",
           {"type": "integer", "minimum": 1, "default": 10}),
    _param("offset", "Features to skip", {"type": "integer", "minimum": 0,
                                          "maximum": MAX_OFFSET, "default": 0}),
    _param("datetime", "An instant or an interval a/b (.. for an open end), RFC 3339, "
           f"between {MIN_DATE:%Y-%m-%d} and {MAX_DATE:%Y-%m-%d}",
           {"type": "string", "pattern": DATETIME_PATTERN}),
]

HTML = {"text/html": {"schema": {"type": "string"}}}  # with f=html, or Accept: text/html
ERROR = {"type": "object", "required": ["code", "description"],
         "properties": {"code": {"type": "string"}, "description": {"type": "string"}}}
# the portal's rate limit (PORTAL_RATELIMIT_DEFAULT) answers in the portal's error shape
RATE_LIMITED = {
    "description": "too many requests from this address; try again after Retry-After",
    "headers": {"Retry-After": {"description": "seconds to wait",
                                "schema": {"type": "integer", "minimum": 1}}},
    "content": {"application/json": {"schema": {
        "type": "object", "required": ["error"],
        "properties": {"error": {"type": "object", "required": ["code", "message"]}}}},
        **HTML}}
FEATURE = {"type": "object", "required": ["type", "geometry", "properties"],
           "properties": {"type": {"type": "string", "enum": ["Feature"]},
                          "geometry": {"type": "object", "nullable": True},
                          "properties": {"type": "object", "nullable": True}}}
FEATURE_COLLECTION = {"type": "object", "required": ["type", "features", "links"],
                      "properties": {"type": {"type": "string", "enum": ["FeatureCollection"]},
                                     "features": {"type": "array", "items": FEATURE},
                                     "numberReturned": {"type": "integer", "minimum": 0},
                                     "links": {"type": "array"}}}


def _responses(description: str, media: str = "application/json", schema: dict | None = None,
               not_found: str | None = None) -> dict:
    """200, and the 400 every operation answers to a bad parameter (a NUL byte, an unknown
    filter, a value out of range), in JSON or, when HTML was asked for, as a page."""
    error = {"application/json": {"schema": ERROR}, **HTML}
    responses = {"200": {"description": description,
                         "content": {media: {"schema": schema or {"type": "object"}}, **HTML}},
                 "400": {"description": "a parameter is invalid; the message says which",
                         "content": error}}
    if not_found:
        responses["404"] = {"description": not_found, "content": error}
    responses["429"] = RATE_LIMITED
    return responses


def openapi_document(base: str, layers: list[Layer]) -> dict:
    paths: dict[str, dict] = {
        "/": {"get": {"summary": "Landing page", "operationId": "getLandingPage",
                      "parameters": COMMON, "responses": _responses("the landing page")}},
        "/conformance": {"get": {"summary": "Conformance classes",
                                 "operationId": "getConformance", "parameters": COMMON,
                                 "responses": _responses("the conformance classes")}},
        "/api": {"get": {"summary": "This document", "operationId": "getApi",
                         "parameters": COMMON,
                         "responses": _responses("the API definition", OPENAPI_TYPE)}},
        "/collections": {"get": {"summary": "Collections", "operationId": "getCollections",
                                 "parameters": COMMON, "responses": _responses("the collections")}},
    }
    for la in layers:
        props = [_param(p.name, f"only features whose {p.name} equals this",
                        {"type": TYPES.get(p.type, "string")}) for p in la.properties]
        paths[f"/collections/{la.id}"] = {"get": {
            "summary": la.title, "operationId": f"describe_{la.id}", "parameters": COMMON,
            "responses": _responses("the collection")}}
        paths[f"/collections/{la.id}/items"] = {"get": {
            "summary": f"Features of {la.title}", "operationId": f"items_{la.id}",
            "parameters": COMMON + ITEMS + props,
            "responses": _responses("a GeoJSON FeatureCollection", GEOJSON,
                                    FEATURE_COLLECTION)}}
        paths[f"/collections/{la.id}/items/{{featureId}}"] = {"get": {
            "summary": f"One feature of {la.title}", "operationId": f"item_{la.id}",
            "parameters": COMMON + [{"name": "featureId", "in": "path", "required": True,
                                     "schema": {"type": "string"}}],
            "responses": _responses("a GeoJSON Feature", GEOJSON, FEATURE,
                                    not_found="no such feature")}}
    return {"openapi": "3.0.3",
            "info": {"title": "Mobility Data Portal: OGC API Features", "version": "1.0.0",
                     "description": "Every published layer as GeoJSON features."},
            "servers": [{"url": base}], "paths": paths}
