"""TileJSON 3.0 for a set of layers and the MapLibre style of the portal's map, both with
absolute URLs from PORTAL_PUBLIC_URL."""

from __future__ import annotations

import re

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


def style(layers: list[Layer], public_url: str) -> dict:
    """One vector source per catalog group (so a group's layers come in one tile), the
    layers in catalog order, each tagged with its catalog layer and group."""
    base = public_url.rstrip("/")
    groups: dict[str, list[Layer]] = {}
    for la in layers:
        groups.setdefault(la.group, []).append(la)
    sources = {source_id(gr): {"type": "vector",
                               "url": f"{base}/tiles/{','.join(la.id for la in ls)}"
                                      "/tilejson.json"}
               for gr, ls in groups.items()}
    out_layers: list[dict] = [{"id": "background", "type": "background",
                               "paint": {"background-color": "#eceae4"}}]
    for la in layers:
        for i, spec in enumerate(la.style):
            entry = {"id": la.id if i == 0 else f"{la.id}-{i}", "source": source_id(la.group),
                     "source-layer": la.id, "minzoom": la.minzoom,
                     "metadata": {"portal:layer": la.id, "portal:group": la.group}}
            entry.update(spec)
            out_layers.append(entry)
    return {"version": 8, "name": "Mobility Data Portal", "sources": sources,
            "layers": out_layers,
            "metadata": {"portal:groups": list(groups)}}
