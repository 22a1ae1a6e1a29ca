"""The arrangement of the map: how its groups and layers are presented, as admins arrange
it. The catalog's declarations are the default; an arrangement overrides presentation only
(titles, groups, order, default visibility, colours, legend, popup fields, zoom range,
basemap), never where features come from or who may see them.

A document (what is stored, exported and imported) is plain data:

    basemap: none                      # or the name of a configured basemap
    groups:                            # in panel order
      - {id: rides, title: Rides, collapsed: false}
    layers:                            # in order within their group
      - id: events
        group: rides
        title: Overtaking events
        visible: true                  # shown when the map opens
        style: {colour: "#ff00ff"}     # or, by a property:
                                       # {property: p, categories: {value: colour}, other: c}
                                       # {property: p, graduated: [[from, colour]], below: c}
        legend: Text under the title
        popup: [distance_left, speed]
        minzoom: 12
        maxzoom: 22

Every key but the ids may be left out. Layers the document does not name (datasets and live
layers registered later) appear in their declared group after the arranged ones.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

from matching_and_import_db.errors import InputError

COLOUR = re.compile(r"#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})")
GROUP_ID = re.compile(r"[a-z0-9][a-z0-9-]{0,62}")
NUMERIC = ("integer", "number")
MAX_TEXT = 200
NONE = "none"  # the basemap choice "no external basemap"

DOCUMENT_KEYS = ("basemap", "groups", "layers")
GROUP_KEYS = ("id", "title", "collapsed")
LAYER_KEYS = ("id", "group", "title", "visible", "style", "legend", "popup", "minzoom",
              "maxzoom")


class ArrangementError(InputError):
    """A document that cannot be used; path says where in it (keys and list indexes)."""

    def __init__(self, message: str, path: Sequence[str | int] = ()):
        super().__init__(message)
        self.message = message
        self.path = tuple(path)


@dataclass(frozen=True)
class LayerFacts:
    """What the arrangement needs to know of a catalog layer (given by the catalog)."""
    id: str
    title: str
    group: str  # the declared group's title
    geometry_type: str
    properties: Mapping[str, str]  # name -> string | integer | number | boolean


@dataclass(frozen=True)
class LayerStyle:
    """A colour for the whole layer, or by a property: categories (value -> colour, other
    values `other`) or graduated (from each number upwards a colour, below the first
    `other`)."""
    colour: str | None = None
    property: str | None = None
    categories: tuple[tuple[str, str], ...] = ()
    graduated: tuple[tuple[float, str], ...] = ()
    other: str = "#9e9e9e"

    def to_document(self) -> dict:
        if self.colour:
            return {"colour": self.colour}
        if self.categories:
            return {"property": self.property, "categories": dict(self.categories),
                    "other": self.other}
        return {"property": self.property, "graduated": [list(x) for x in self.graduated],
                "below": self.other}


@dataclass(frozen=True)
class GroupArrangement:
    id: str
    title: str
    collapsed: bool = False


@dataclass(frozen=True)
class LayerArrangement:
    id: str
    group: str | None = None
    title: str | None = None
    visible: bool | None = None
    style: LayerStyle | None = None
    legend: str | None = None
    popup: tuple[str, ...] | None = None
    minzoom: int | None = None
    maxzoom: int | None = None

    def to_document(self) -> dict:
        out: dict = {"id": self.id}
        for key in ("group", "title", "visible", "legend", "minzoom", "maxzoom"):
            if getattr(self, key) is not None:
                out[key] = getattr(self, key)
        if self.style is not None:
            out["style"] = self.style.to_document()
        if self.popup is not None:
            out["popup"] = list(self.popup)
        return out


@dataclass(frozen=True)
class Arrangement:
    groups: tuple[GroupArrangement, ...] = ()
    layers: tuple[LayerArrangement, ...] = ()
    basemap: str | None = None  # None: the configured default

    def to_document(self) -> dict:
        out: dict = {}
        if self.basemap is not None:
            out["basemap"] = self.basemap
        out["groups"] = [{"id": g.id, "title": g.title, "collapsed": g.collapsed}
                         for g in self.groups]
        out["layers"] = [la.to_document() for la in self.layers]
        return out


@dataclass(frozen=True)
class PlacedLayer:
    """A catalog layer as the arrangement presents it."""
    id: str
    group: str
    title: str
    visible: bool
    style: LayerStyle | None
    legend: str
    popup: tuple[str, ...]
    minzoom: int | None
    maxzoom: int | None


@dataclass(frozen=True)
class PlacedGroup:
    id: str
    title: str
    collapsed: bool
    layers: list[PlacedLayer] = field(default_factory=list)


def group_id(title: str) -> str:
    """The id of a declared group (its title as a slug): "Public transport" -> public-transport."""
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-") or "group"


# --- reading a document ----------------------------------------------------------------------

def _mapping(value, path, keys) -> Mapping:
    if not isinstance(value, Mapping):
        raise ArrangementError(f"{_where(path)} must be a mapping", path)
    unknown = [k for k in value if k not in keys]
    if unknown:
        raise ArrangementError(f"unknown key {unknown[0]!r} in {_where(path)}; expected one "
                               f"of {', '.join(keys)}", (*path, unknown[0]))
    return value


def _where(path) -> str:
    return "the document" if not path else ".".join(str(p) for p in path)


def _text(value, path, *, pattern: re.Pattern | None = None) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_TEXT:
        raise ArrangementError(f"{_where(path)} must be a text of 1 to {MAX_TEXT} characters",
                               path)
    if pattern is not None and not pattern.fullmatch(value):
        raise ArrangementError(f"{_where(path)}: {value!r} is not allowed here", path)
    return value.strip()


def _bool(value, path) -> bool:
    if not isinstance(value, bool):
        raise ArrangementError(f"{_where(path)} must be true or false", path)
    return value


def _colour(value, path) -> str:
    if not isinstance(value, str) or not COLOUR.fullmatch(value):
        raise ArrangementError(f"{_where(path)} must be a colour like #1a9641", path)
    return value.lower()


def _zoom(value, path) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 24:
        raise ArrangementError(f"{_where(path)} must be a whole zoom level from 0 to 24", path)
    return value


def _style(value, path, facts: LayerFacts) -> LayerStyle:
    value = _mapping(value, path, ("colour", "property", "categories", "other", "graduated",
                                   "below"))
    if "colour" in value:
        if len(value) > 1:
            raise ArrangementError(f"{_where(path)}: a single colour takes no other keys", path)
        return LayerStyle(colour=_colour(value["colour"], (*path, "colour")))
    prop = value.get("property")
    if prop not in facts.properties:
        raise ArrangementError(
            f"{_where((*path, 'property'))}: layer {facts.id!r} has no property {prop!r}; it "
            f"has {', '.join(facts.properties)}", (*path, "property"))
    if "categories" in value and "graduated" not in value and "below" not in value:
        cats = value["categories"]
        if not isinstance(cats, Mapping) or not cats:
            raise ArrangementError(f"{_where((*path, 'categories'))} must map values to "
                                   "colours", (*path, "categories"))
        pairs = tuple((str(k).lower() if isinstance(k, bool) else str(k),
                       _colour(c, (*path, "categories", k))) for k, c in cats.items())
        return LayerStyle(property=prop, categories=pairs,
                          other=_colour(value.get("other", "#9e9e9e"), (*path, "other")))
    if "graduated" in value and "categories" not in value and "other" not in value:
        if facts.properties[prop] not in NUMERIC:
            raise ArrangementError(f"{_where((*path, 'property'))}: {prop!r} is not a number, "
                                   "so it cannot be graduated", (*path, "property"))
        steps = value["graduated"]
        if not isinstance(steps, list) or not steps:
            raise ArrangementError(f"{_where((*path, 'graduated'))} must be a list of "
                                   "[from, colour]", (*path, "graduated"))
        out = []
        for i, step in enumerate(steps):
            spath = (*path, "graduated", i)
            if (not isinstance(step, list) or len(step) != 2 or isinstance(step[0], bool)
                    or not isinstance(step[0], int | float)):
                raise ArrangementError(f"{_where(spath)} must be [from, colour]", spath)
            if out and step[0] <= out[-1][0]:
                raise ArrangementError(f"{_where(spath)}: the steps must rise", spath)
            out.append((step[0], _colour(step[1], (*spath, 1))))
        return LayerStyle(property=prop, graduated=tuple(out),
                          other=_colour(value.get("below", "#9e9e9e"), (*path, "below")))
    raise ArrangementError(f"{_where(path)} must have colour, or property with categories "
                           "(and other) or graduated (and below)", path)


def _layer(value, path, facts: Mapping[str, LayerFacts], groups: set[str]) -> LayerArrangement:
    value = _mapping(value, path, LAYER_KEYS)
    if "id" not in value:
        raise ArrangementError(f"{_where(path)} has no id", path)
    layer_id = value["id"]
    if not isinstance(layer_id, str) or layer_id not in facts:
        raise ArrangementError(f"{_where((*path, 'id'))}: there is no layer {layer_id!r} "
                               f"(known: {', '.join(sorted(facts))})", (*path, "id"))
    fact = facts[layer_id]
    out: dict = {"id": layer_id}
    if "group" in value:
        if value["group"] not in groups:
            raise ArrangementError(f"{_where((*path, 'group'))}: there is no group "
                                   f"{value['group']!r} in groups", (*path, "group"))
        out["group"] = value["group"]
    if "title" in value:
        out["title"] = _text(value["title"], (*path, "title"))
    if "legend" in value:
        out["legend"] = "" if value["legend"] in (None, "") else _text(value["legend"],
                                                                       (*path, "legend"))
    if "visible" in value:
        out["visible"] = _bool(value["visible"], (*path, "visible"))
    if "style" in value and value["style"] is not None:
        out["style"] = _style(value["style"], (*path, "style"), fact)
    if "popup" in value:
        names = value["popup"]
        if not isinstance(names, list):
            raise ArrangementError(f"{_where((*path, 'popup'))} must be a list of property "
                                   "names", (*path, "popup"))
        for i, name in enumerate(names):
            if name not in fact.properties:
                raise ArrangementError(
                    f"{_where((*path, 'popup', i))}: layer {layer_id!r} has no property "
                    f"{name!r}; it has {', '.join(fact.properties)}", (*path, "popup", i))
        out["popup"] = tuple(names)
    for key in ("minzoom", "maxzoom"):
        if key in value:
            out[key] = _zoom(value[key], (*path, key))
    if out.get("minzoom", 0) > out.get("maxzoom", 24):
        raise ArrangementError(f"{_where(path)}: minzoom is above maxzoom", (*path, "minzoom"))
    return LayerArrangement(**out)


def read_document(doc, facts: Mapping[str, LayerFacts], basemaps: Sequence[str] = ()) \
        -> Arrangement:
    """The arrangement a document describes, or ArrangementError naming the bad key."""
    if doc is None:
        doc = {}
    doc = _mapping(doc, (), DOCUMENT_KEYS)
    basemap = doc.get("basemap")
    if basemap is not None and basemap != NONE and basemap not in basemaps:
        raise ArrangementError(f"basemap: {basemap!r} is not a configured basemap (choose "
                               f"{', '.join([NONE, *basemaps])})", ("basemap",))
    raw_groups = doc.get("groups") or []
    if not isinstance(raw_groups, list):
        raise ArrangementError("groups must be a list", ("groups",))
    groups: list[GroupArrangement] = []
    for i, g in enumerate(raw_groups):
        path = ("groups", i)
        g = _mapping(g, path, GROUP_KEYS)
        gid = _text(g.get("id"), (*path, "id"), pattern=GROUP_ID)
        if any(x.id == gid for x in groups):
            raise ArrangementError(f"groups.{i}.id: group {gid!r} appears twice", (*path, "id"))
        groups.append(GroupArrangement(
            gid, _text(g.get("title", gid), (*path, "title")),
            _bool(g.get("collapsed", False), (*path, "collapsed"))))
    known_groups = {g.id for g in groups}
    raw_layers = doc.get("layers") or []
    if not isinstance(raw_layers, list):
        raise ArrangementError("layers must be a list", ("layers",))
    layers: list[LayerArrangement] = []
    for i, la in enumerate(raw_layers):
        try:
            layer = _layer(la, ("layers", i), facts, known_groups | _declared_groups(facts))
        except ArrangementError as e:
            if isinstance(la, Mapping) and la.get("id") in facts:  # say which layer it is
                raise ArrangementError(e.message.replace(f"layers.{i}", f"layers.{i} "
                                                         f"({la['id']})", 1), e.path) from None
            raise
        if any(x.id == layer.id for x in layers):
            raise ArrangementError(f"layers.{i}.id: layer {layer.id!r} appears twice",
                                   ("layers", i, "id"))
        layers.append(layer)
    return Arrangement(tuple(groups), tuple(layers), basemap)


def _declared_groups(facts: Mapping[str, LayerFacts]) -> set[str]:
    return {group_id(f.group) for f in facts.values()}


# --- presenting the catalog through it -------------------------------------------------------

def place(arrangement: Arrangement, facts: Sequence[LayerFacts],
          keep_empty: bool = False) -> list[PlacedGroup]:
    """The groups in panel order with their layers in order: the arrangement's first, then
    the declared groups it does not name; in each group the arranged layers, then the
    others in catalog order. Only the layers in facts (those the viewer may see) appear,
    and only the groups that hold one (all of them with keep_empty: the admin's page, where
    a new group waits for its layers)."""
    by_id = {f.id: f for f in facts}
    groups: dict[str, PlacedGroup] = {
        g.id: PlacedGroup(g.id, g.title, g.collapsed) for g in arrangement.groups}
    for f in facts:
        gid = group_id(f.group)
        groups.setdefault(gid, PlacedGroup(gid, f.group, False))
    arranged = {la.id: la for la in arrangement.layers if la.id in by_id}
    order = [la.id for la in arrangement.layers if la.id in by_id] + \
        [f.id for f in facts if f.id not in arranged]
    # arranged layers first within each group: stable sort by (not arranged)
    order.sort(key=lambda lid: lid not in arranged)
    for lid in order:
        f, la = by_id[lid], arranged.get(lid, LayerArrangement(lid))
        gid = la.group or group_id(f.group)
        if gid not in groups:  # a declared group of layers this viewer does not see
            gid = group_id(f.group)
        groups[gid].layers.append(PlacedLayer(
            id=lid, group=gid, title=la.title or f.title,
            visible=True if la.visible is None else la.visible, style=la.style,
            legend=la.legend or "", popup=la.popup or (), minzoom=la.minzoom,
            maxzoom=la.maxzoom))
    return [g for g in groups.values() if g.layers or keep_empty]


def complete(arrangement: Arrangement, facts: Sequence[LayerFacts]) -> Arrangement:
    """The same arrangement naming every group and layer in its place (what an export
    writes, so the file shows the whole map and is a starting point to edit)."""
    arranged = {la.id: la for la in arrangement.layers}
    placed = place(arrangement, facts, keep_empty=True)
    groups = tuple(GroupArrangement(g.id, g.title, g.collapsed) for g in placed)
    layers = tuple(replace(arranged.get(la.id, LayerArrangement(la.id)), group=la.group)
                   for g in placed for la in g.layers)
    return Arrangement(groups, layers, arrangement.basemap)


def describe_changes(before: Arrangement, after: Arrangement) -> str:
    """What a new version changed, in a line for the history."""
    changes: list[str] = []
    if before.basemap != after.basemap:
        changes.append(f"basemap → {after.basemap or 'default'}")
    old_groups = {g.id: g for g in before.groups}
    for g in after.groups:
        old = old_groups.pop(g.id, None)
        if old is None:
            changes.append(f"group {g.title!r} added")
        elif old != g:
            changes.append(f"group {g.id}: " + ", ".join(
                k for k in ("title", "collapsed") if getattr(old, k) != getattr(g, k)))
    changes += [f"group {gid} removed" for gid in old_groups]
    if [g.id for g in before.groups if g.id in {x.id for x in after.groups}] != \
            [g.id for g in after.groups if g.id in {x.id for x in before.groups}]:
        changes.append("groups reordered")
    old_layers = {la.id: la for la in before.layers}
    for la in after.layers:
        old = old_layers.pop(la.id, LayerArrangement(la.id))
        keys = [k for k in LAYER_KEYS[1:] if getattr(old, k) != getattr(la, k)]
        if keys:
            changes.append(f"{la.id}: {', '.join(keys)}")
    changes += [f"{lid}: back to the catalog's" for lid in old_layers]
    if [la.id for la in before.layers if la.id in {x.id for x in after.layers}] != \
            [la.id for la in after.layers if la.id in {x.id for x in before.layers}]:
        changes.append("layers reordered")
    return "; ".join(changes) or "no change"
