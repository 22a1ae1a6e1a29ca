"""The /admin/map form as an arrangement document: each field the form sends changes what
the map shows now, a field it leaves out keeps it, and the document goes through the same
validation as an imported YAML file (matching_and_import_db.arrangement.model)."""

from __future__ import annotations

from collections.abc import Mapping

from matching_and_import_db.arrangement.model import (
    Arrangement,
    ArrangementError,
    LayerFacts,
    LayerStyle,
    PlacedGroup,
    group_id,
    place,
)

STYLE_MODES = ("catalog", "colour", "categories", "graduated")


def _int(form, name: str, default: int | None) -> int | None:
    value = form.get(name, "").strip()
    if not value:
        return default
    try:
        return int(value)
    except ValueError:
        raise ArrangementError(f"{name}: {value!r} is not a whole number") from None


def _classes(text: str, name: str) -> tuple[list[tuple[str, str]], str | None]:
    """Lines "value #colour"; the line "other #colour" (or "below #colour") is the rest."""
    pairs, rest = [], None
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        value, _, colour = line.strip().rpartition(" ")
        if not value:
            raise ArrangementError(f"{name}, line {n}: write a value and a colour")
        if value.strip() in ("other", "below"):
            rest = colour
        else:
            pairs.append((value.strip(), colour))
    return pairs, rest


def style_document(form, prefix: str, current: LayerStyle | None) -> dict | None:
    mode = form.get(f"{prefix}-style")
    if mode is None:
        return None if current is None else current.to_document()
    if mode not in STYLE_MODES:
        raise ArrangementError(f"{prefix}-style: {mode!r} is not one of "
                               f"{', '.join(STYLE_MODES)}")
    if mode == "catalog":
        return None
    if mode == "colour":
        return {"colour": form.get(f"{prefix}-colour", "")}
    pairs, rest = _classes(form.get(f"{prefix}-classes", ""), f"{prefix}-classes")
    doc: dict = {"property": form.get(f"{prefix}-property")}
    if mode == "categories":
        doc["categories"] = dict(pairs)
        if rest:
            doc["other"] = rest
        return doc
    try:
        doc["graduated"] = [[float(v), c] for v, c in pairs]
    except ValueError:
        raise ArrangementError(f"{prefix}-classes: graduated classes start at numbers") \
            from None
    if rest:
        doc["below"] = rest
    return doc


def document_from_form(form: Mapping, arrangement: Arrangement,
                       facts: Mapping[str, LayerFacts]) -> dict:
    placed: list[PlacedGroup] = place(arrangement, list(facts.values()), keep_empty=True)
    groups = []
    for i, g in enumerate(placed):
        p = f"group-{g.id}"
        order = _int(form, f"{p}-order", i)
        collapsed = (form.get(f"{p}-collapsed") == "1") if f"{p}-title" in form \
            else g.collapsed
        groups.append((order, i, {"id": g.id, "title": form.get(f"{p}-title", g.title),
                                  "collapsed": collapsed}))
    new_title = form.get("new_group", "").strip()
    if new_title:
        gid = group_id(new_title)
        if all(gid != g["id"] for _, _, g in groups):
            groups.append((len(groups), len(groups), {"id": gid, "title": new_title,
                                                     "collapsed": False}))
    groups.sort(key=lambda x: x[:2])
    group_rank = {g["id"]: n for n, (_, _, g) in enumerate(groups)}
    layers = []
    for gi, g in enumerate(placed):
        for li, la in enumerate(g.layers):
            fact, p = facts[la.id], f"layer-{la.id}"
            entry: dict = {"id": la.id}
            group = form.get(f"{p}-group", la.group)
            if group != group_id(fact.group):
                entry["group"] = group
            title = form.get(f"{p}-title", la.title).strip()
            if title != fact.title:
                entry["title"] = title
            visible = (form.get(f"{p}-visible") == "1") if f"{p}-title" in form \
                else la.visible
            if not visible:
                entry["visible"] = False
            style = style_document(form, p, la.style)
            if style is not None:
                entry["style"] = style
            legend = form.get(f"{p}-legend", la.legend).strip()
            if legend:
                entry["legend"] = legend
            popup = form.get(f"{p}-popup")
            names = [n.strip() for n in popup.split(",") if n.strip()] if popup is not None \
                else list(la.popup)
            if names:
                entry["popup"] = names
            for key in ("minzoom", "maxzoom"):
                value = _int(form, f"{p}-{key}", getattr(la, key))
                if value is not None:
                    entry[key] = value
            order = _int(form, f"{p}-order", li)
            layers.append((group_rank.get(group, len(groups)), order, gi, li, entry))
    layers.sort(key=lambda x: x[:4])
    doc: dict = {"groups": [g for _, _, g in groups], "layers": [x[-1] for x in layers]}
    basemap = form.get("basemap", arrangement.basemap or "")
    if basemap:
        doc["basemap"] = basemap
    return doc
