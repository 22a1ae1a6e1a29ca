"""A layer's style as the arrangement says it, in MapLibre terms: the colour expression put
into the catalog's own style layers, and the legend rows that go with it."""

from __future__ import annotations

import copy

from matching_and_import_db.arrangement.model import LayerStyle

COLOUR_OF = {"line": "line-color", "circle": "circle-color", "fill": "fill-color",
             "fill-extrusion": "fill-extrusion-color", "symbol": "text-color",
             "heatmap": None}
TRANSPARENT = "rgba(0,0,0,0)"


def colour_expression(style: LayerStyle):
    if style.colour:
        return style.colour
    value = ["get", style.property]
    if style.categories:
        expr: list = ["match", ["to-string", value]]
        for category, colour in style.categories:
            expr += [category, colour]
        return expr + [style.other]
    expr = ["step", ["coalesce", ["to-number", value], -1e308], style.other]
    for start, colour in style.graduated:
        expr += [start, colour]
    return expr


def restyle(specs: tuple[dict, ...], style: LayerStyle | None) -> list[dict]:
    """The catalog's style layers with the arranged colour on the topmost one (a casing
    below it keeps its own); a hollow circle takes it on its stroke."""
    out = [copy.deepcopy(s) for s in specs]
    if style is None or not out:
        return out
    top = out[-1]
    prop = COLOUR_OF.get(top.get("type"))
    if prop is None:
        return out
    paint = top.setdefault("paint", {})
    if top["type"] == "circle" and paint.get("circle-color") == TRANSPARENT:
        prop = "circle-stroke-color"
    paint[prop] = colour_expression(style)
    return out


def legend(style: LayerStyle, title: str) -> list[list[str]]:
    if style.colour:
        return [[style.colour, title]]
    if style.categories:
        return [[c, v] for v, c in style.categories] + [[style.other, "other"]]
    rows = [[style.other, f"below {_number(style.graduated[0][0])}"]]
    for i, (start, colour) in enumerate(style.graduated):
        end = style.graduated[i + 1][0] if i + 1 < len(style.graduated) else None
        rows.append([colour, f"{_number(start)} – {_number(end)}" if end is not None
                     else f"{_number(start)} and more"])
    return rows


def _number(x: float) -> str:
    return f"{x:g}"
