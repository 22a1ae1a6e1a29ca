"""The OpenAPI 3.0 document of the OGC API Features endpoints, one items path per
collection with its property filters."""

from __future__ import annotations

from app.layers.catalog import Layer

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
    _param("limit", "Features per page", {"type": "integer", "minimum": 1,
                                          "maximum": 10000, "default": 10}),
    _param("offset", "Features to skip", {"type": "integer", "minimum": 0, "default": 0}),
    _param("datetime", "An instant or an interval a/b (.. for an open end), RFC 3339",
           {"type": "string"}),
]


def _ok(description: str, media: str = "application/json") -> dict:
    return {"200": {"description": description,
                    "content": {media: {"schema": {"type": "object"}}}}}


def openapi_document(base: str, layers: list[Layer]) -> dict:
    paths: dict[str, dict] = {
        "/": {"get": {"summary": "Landing page", "operationId": "getLandingPage",
                      "parameters": COMMON, "responses": _ok("the landing page")}},
        "/conformance": {"get": {"summary": "Conformance classes",
                                 "operationId": "getConformance", "parameters": COMMON,
                                 "responses": _ok("the conformance classes")}},
        "/api": {"get": {"summary": "This document", "operationId": "getApi",
                         "responses": _ok("the API definition")}},
        "/collections": {"get": {"summary": "Collections", "operationId": "getCollections",
                                 "parameters": COMMON, "responses": _ok("the collections")}},
    }
    for la in layers:
        props = [_param(p.name, f"only features whose {p.name} equals this",
                        {"type": TYPES.get(p.type, "string")}) for p in la.properties]
        paths[f"/collections/{la.id}"] = {"get": {
            "summary": la.title, "operationId": f"describe_{la.id}", "parameters": COMMON,
            "responses": _ok("the collection")}}
        paths[f"/collections/{la.id}/items"] = {"get": {
            "summary": f"Features of {la.title}", "operationId": f"items_{la.id}",
            "parameters": COMMON + ITEMS + props,
            "responses": _ok("a GeoJSON FeatureCollection", "application/geo+json")}}
        paths[f"/collections/{la.id}/items/{{featureId}}"] = {"get": {
            "summary": f"One feature of {la.title}", "operationId": f"item_{la.id}",
            "parameters": COMMON + [{"name": "featureId", "in": "path", "required": True,
                                     "schema": {"type": "string"}}],
            "responses": {**_ok("a GeoJSON Feature", "application/geo+json"),
                          "404": {"description": "no such feature"}}}}
    return {"openapi": "3.0.3",
            "info": {"title": "Mobility Data Portal: OGC API Features", "version": "1.0.0",
                     "description": "Every published layer as GeoJSON features."},
            "servers": [{"url": base}], "paths": paths}
