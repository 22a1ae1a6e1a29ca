"""The catalog as the admins' arrangement presents it (matching_and_import_db/arrangement):
the map's style, its layer panel and /api/layers all read it from here, on every request,
so a saved arrangement shows on the next load in every web process.

The arrangement only presents: the layers a viewer may see are the catalog's
(catalog().visible(user)), tiles and features are the catalog's own."""

from __future__ import annotations

from flask import current_app

from app import dbapi
from matching_and_import_db.arrangement import paint, store
from matching_and_import_db.arrangement.model import (
    NONE,
    Arrangement,
    LayerFacts,
    PlacedGroup,
    PlacedLayer,
    place,
)
from matching_and_import_db.layers.catalog import Catalog, Freshness, Layer, catalog


def facts_of(layers: list[Layer]) -> list[LayerFacts]:
    return [LayerFacts(la.id, la.title, la.group, la.geometry_type,
                       {p.name: p.type for p in la.properties}) for la in layers]


def all_facts(c: Catalog | None = None, fresh: bool = False) -> dict[str, LayerFacts]:
    """Every layer of the catalog, whoever may see it: what an arrangement may name.
    fresh: the admin's pages and edits see a dataset published a moment ago."""
    layers = (c or catalog()).all_layers(Freshness.NOW if fresh else Freshness.ROUTINE)
    return {f.id: f for f in facts_of(list(layers.values()))}


def basemap_names() -> list[str]:
    return list(current_app.config["PORTAL"].basemaps)


def current_arrangement() -> Arrangement:
    return store.current(dbapi.connection(), all_facts(), basemap_names())


def basemap_url(arrangement: Arrangement) -> str:
    """The style URL of the basemap the arrangement chose ("" for none)."""
    settings = current_app.config["PORTAL"]
    if arrangement.basemap == NONE:
        return ""
    if arrangement.basemap is None:
        return settings.basemap_style_url
    return settings.basemaps.get(arrangement.basemap, "")


def placed_for(user, arrangement: Arrangement | None = None,
               visible: list[Layer] | None = None) -> list[PlacedGroup]:
    """The groups and layers this viewer may see, in the arrangement's order."""
    arrangement = arrangement if arrangement is not None else current_arrangement()
    return place(arrangement, facts_of(visible if visible is not None
                                       else catalog().visible(user)))


def legend_of(placed: PlacedLayer, layer: Layer) -> list[list[str]]:
    if placed.style is not None:
        return paint.legend(placed.style, placed.title)
    return [list(x) for x in layer.legend]


def describe(placed: PlacedLayer, layer: Layer, group: PlacedGroup) -> dict:
    """A layer as /api/layers and the panel show it: the catalog's description with the
    arrangement's presentation."""
    out = layer.describe()
    out.update(title=placed.title, group=group.title, group_id=group.id,
               visible=placed.visible, legend=legend_of(placed, layer),
               legend_text=placed.legend, popup_fields=list(placed.popup),
               minzoom=placed.minzoom if placed.minzoom is not None else layer.minzoom,
               maxzoom=placed.maxzoom if placed.maxzoom is not None else layer.maxzoom)
    return out


def groups_json(user) -> list[dict]:
    visible = catalog().visible(user)
    by_id = {la.id: la for la in visible}
    return [{"id": g.id, "title": g.title, "collapsed": g.collapsed,
             "layers": [describe(la, by_id[la.id], g) for la in g.layers]}
            for g in placed_for(user, visible=visible)]
