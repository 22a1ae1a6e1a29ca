"""Map definitions sent by API, checked into plain data. Never SQL: a Windshaft-style
MapConfig (layers with `sql`, `cartocss`) is refused with a message saying what to send.

A definition: {"title", "listed": true, "minzoom", "maxzoom", "layers": [{"id", "dataset",
"filters": [{"property", "op", "value"}], "style": {"type": "circle", "paint": {...}},
"properties": [public property names]}]}
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from matching_and_import_db.errors import UnprocessableInput

NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")
SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
# operator -> how its value is compared (text or number); the SQL lives in the app's layer
OPERATORS = {"eq": "text", "ne": "text", "in": "list", "lt": "number", "le": "number",
             "gt": "number", "ge": "number", "exists": "none"}
COLUMNS = ("identifier", "name", "survey_id", "form_id", "modified_at")  # besides answers
PAINT = {"circle-color": "colour", "circle-radius": "number", "circle-opacity": "number",
         "circle-stroke-color": "colour", "circle-stroke-width": "number"}
COLOUR = re.compile(r"^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$")
CLIENT_SQL_KEYS = ("sql", "cartocss", "sql_raw", "query")
MAX_LAYERS = 8
MAX_FILTERS = 8


@dataclass(frozen=True)
class Filter:
    property: str
    op: str
    value: object


@dataclass(frozen=True)
class MapLayer:
    id: str
    dataset: str
    filters: tuple[Filter, ...]
    paint: dict
    properties: tuple[str, ...]


@dataclass(frozen=True)
class MapDefinition:
    title: str
    listed: bool
    minzoom: int
    maxzoom: int
    layers: tuple[MapLayer, ...]


def _refuse(message: str):
    raise UnprocessableInput(message)


def _find_sql(value, path: str = "") -> str | None:
    if isinstance(value, dict):
        for key, inner in value.items():
            if str(key).lower() in CLIENT_SQL_KEYS:
                return f"{path}.{key}".lstrip(".")
            found = _find_sql(inner, f"{path}.{key}")
            if found:
                return found
    if isinstance(value, list):
        for i, inner in enumerate(value):
            found = _find_sql(inner, f"{path}[{i}]")
            if found:
                return found
    return None


def read_definition(data) -> MapDefinition:
    if not isinstance(data, dict):
        _refuse("a map definition is a JSON object")
    where = _find_sql(data)
    if where:
        _refuse(f"{where}: a map never runs SQL (or CartoCSS) sent by a client; give each "
                "layer a dataset, filters (property, op, value) and a style instead")
    title = data.get("title")
    if not isinstance(title, str) or not 0 < len(title) <= 255:
        _refuse("title: 1 to 255 characters")
    listed = data.get("listed", True)
    if not isinstance(listed, bool):
        _refuse("listed: true (public) or false (unlisted, reachable with its token)")
    minzoom, maxzoom = data.get("minzoom", 0), data.get("maxzoom", 22)
    if not all(isinstance(z, int) and not isinstance(z, bool) and 0 <= z <= 22
               for z in (minzoom, maxzoom)) or minzoom > maxzoom:
        _refuse("minzoom and maxzoom: whole numbers 0..22, minzoom ≤ maxzoom")
    layers = data.get("layers")
    if not isinstance(layers, list) or not 0 < len(layers) <= MAX_LAYERS:
        _refuse(f"layers: a list of 1 to {MAX_LAYERS} layers")
    read = tuple(_layer(raw, i) for i, raw in enumerate(layers))
    if len({la.id for la in read}) != len(read):
        _refuse("layers: each layer needs its own id")
    return MapDefinition(title, listed, minzoom, maxzoom, read)


def _layer(raw, i: int) -> MapLayer:
    at = f"layers[{i}]"
    if not isinstance(raw, dict):
        _refuse(f"{at}: a layer is an object")
    layer_id, dataset = raw.get("id"), raw.get("dataset")
    if not isinstance(layer_id, str) or not NAME.match(layer_id):
        _refuse(f"{at}.id: letters, digits and _ (at most 63)")
    if not isinstance(dataset, str) or not SLUG.match(dataset):
        _refuse(f"{at}.dataset: the slug of a dataset of this workspace")
    filters = raw.get("filters", [])
    if not isinstance(filters, list) or len(filters) > MAX_FILTERS:
        _refuse(f"{at}.filters: a list of at most {MAX_FILTERS}")
    style = raw.get("style", {})
    if not isinstance(style, dict) or style.get("type", "circle") != "circle":
        _refuse(f"{at}.style: {{\"type\": \"circle\", \"paint\": {{...}}}} (datapoints are points)")
    paint = style.get("paint", {})
    if not isinstance(paint, dict):
        _refuse(f"{at}.style.paint: an object")
    for key, value in paint.items():
        kind = PAINT.get(key)
        if kind is None:
            _refuse(f"{at}.style.paint.{key}: not one of {', '.join(PAINT)}")
        ok = (isinstance(value, str) and COLOUR.match(value)) if kind == "colour" else \
            (isinstance(value, int | float) and not isinstance(value, bool) and 0 <= value <= 100)
        if not ok:
            wanted = "#rrggbb colour" if kind == "colour" else "number 0..100"
            _refuse(f"{at}.style.paint.{key}: a {wanted}")
    props = raw.get("properties", [])
    if not isinstance(props, list) or not all(isinstance(p, str) and NAME.match(p)
                                               for p in props) or len(props) > 50:
        _refuse(f"{at}.properties: at most 50 property names (letters, digits, _)")
    return MapLayer(layer_id, dataset, tuple(_filter(f, f"{at}.filters[{j}]")
                                             for j, f in enumerate(filters)),
                    dict(paint), tuple(dict.fromkeys(props)))


def _filter(raw, at: str) -> Filter:
    if not isinstance(raw, dict):
        _refuse(f"{at}: {{\"property\", \"op\", \"value\"}}")
    prop, op, value = raw.get("property"), raw.get("op"), raw.get("value")
    if not isinstance(prop, str) or not NAME.match(prop):
        _refuse(f"{at}.property: letters, digits and _")
    kind = OPERATORS.get(op)
    if kind is None:
        _refuse(f"{at}.op: one of {', '.join(OPERATORS)}")
    if kind == "number" and (isinstance(value, bool) or not isinstance(value, int | float)):
        _refuse(f"{at}.value: a number for {op}")
    if kind == "text" and not isinstance(value, str | int | float):
        _refuse(f"{at}.value: text or a number for {op}")
    if kind == "list" and (not isinstance(value, list) or not 0 < len(value) <= 100
                           or not all(isinstance(v, str | int | float) for v in value)):
        _refuse(f"{at}.value: a list of 1 to 100 values for in")
    if kind == "text":
        value = str(value)
    if kind == "list":
        value = [str(v) for v in value]
    return Filter(prop, op, value)
