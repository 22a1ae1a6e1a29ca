"""TileJSON 3.0 for a set of layers and the MapLibre style of the portal's map, both with
absolute URLs from PORTAL_PUBLIC_URL."""

from __future__ import annotations

import re

from app.maps.arranged import facts_of
from matching_and_import_db.arrangement import paint
from matching_and_import_db.arrangement.model import Arrangement, PlacedGroup, place
from matching_and_import_db.layers.catalog import Layer

WORLD_BOUNDS = [-180.0, -85.051129, 180.0, 85.051129]
ATTRIBUTION = "© OpenStreetMap contributors (ODbL)"


def tilejson(spec: str, layers: list[Layer], public_url: str) -> dict:
    base = public_url.rstrip("/")
    return {
        "tilejson": "3.0.0",
        "name": ", ".join(la.title for la in layers),
        "tiles": [f"{base}/tiles/{spec}/{{z}}/{{x}}/{{y}}.mvt"],
        "minzoom": min(la.minzoom for la in layers),
        "maxzoom": max(la.maxzoom for la in layers),
        "bounds": WORLD_BOUNDS,
        "attribution": ATTRIBUTION,
        "vector_layers": [{"id": la.id, "description": la.description or la.title,
                           "minzoom": la.minzoom, "maxzoom": la.maxzoom,
                           "fields": {p.name: p.type.capitalize() for p in la.properties}}
                          for la in layers],
    }


def source_id(group: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", group.lower()).strip("-")


def style(layers: list[Layer], public_url: str, placed: list[PlacedGroup] | None = None,
          basemap_url: str = "") -> dict:
    """One vector source per declared group (so a group's layers come in one tile, and an
    arrangement never changes a tile's URL or its cache), the layers in the order `placed`
    gives (the admins' arrangement; by default the catalog's groups and order) with its
    colours and zoom ranges, each tagged with its catalog layer and the group the panel
    shows it in."""
    base = public_url.rstrip("/")
    by_id = {la.id: la for la in layers}
    if placed is None:
        placed = place(Arrangement(), facts_of(layers))
    sources: dict[str, list[Layer]] = {}
    for la in layers:
        sources.setdefault(source_id(la.group), []).append(la)
    out_layers: list[dict] = [{"id": "background", "type": "background",
                               "paint": {"background-color": "#eceae4"}}]
    for group in placed:
        for pl in group.layers:
            la = by_id[pl.id]
            for i, spec in enumerate(paint.restyle(la.style, pl.style)):
                entry = {"id": la.id if i == 0 else f"{la.id}-{i}",
                         "source": source_id(la.group), "source-layer": la.id,
                         "minzoom": la.minzoom if pl.minzoom is None else pl.minzoom,
                         "metadata": {"portal:layer": la.id, "portal:group": group.title,
                                      "portal:group_id": group.id}}
                if pl.maxzoom is not None:
                    entry["maxzoom"] = pl.maxzoom + 1  # MapLibre's maxzoom is exclusive
                entry.update(spec)
                if not pl.visible:
                    entry["layout"] = {**entry.get("layout", {}), "visibility": "none"}
                out_layers.append(entry)
    return {"version": 8, "name": "Mobility Data Portal",
            "sources": {sid: {"type": "vector",
                              "url": f"{base}/tiles/{','.join(la.id for la in ls)}"
                                     "/tilejson.json"}
                        for sid, ls in sources.items()},
            "layers": out_layers,
            "metadata": {"portal:groups": [g.title for g in placed],
                         "portal:basemap": basemap_url or None}}
