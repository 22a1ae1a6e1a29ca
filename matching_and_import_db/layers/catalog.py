"""Layers and the registry that holds them.

A layer says where its features come from as SQL fragments (a FROM clause, an id, the
geometry in 4326 and in 3857, the allowed properties as expressions). Tile and feature
queries are assembled from these fragments only: request values are always bound, and
every identifier a request may name (a layer id, a property) must be in the catalog.

Fragments are SQL text composed into a statement by
matching_and_import_db.layers.query.fragment. These
markers are filled when a query is built; everything else is taken as written, so a `%`
(a LIKE pattern) or braces (a JSON literal) need no escaping:
  {env}       the area asked for, as a 3857 geometry (tile envelope with margin, or bbox)
  {rides_e}   which rides' data is shown, for tables joined to rides as t, with the
              time condition on ride_events e.time
  {rides_u}   the same with the time condition on road_usage u.time
  {rides_t}   the same with the time condition on t.recorded_at
  %(z)s, %(x)s, %(y)s, %(pixel)s, %(tolerance)s, %(viewer_id)s, %(date_from)s, %(date_to)s
              the request's values, bound by the driver (query.FRAGMENT_VALUES)
Property names are the columns of tiles and the keys of features, and OGC filter names:
lowercase identifiers (PROPERTY_NAME), checked when a layer is registered.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum

from matching_and_import_db.errors import NotFound
from matching_and_import_db.tilecache import TileInvalidator

PUBLIC = "public"  # everyone
USER = "user"  # logged-in users; each sees their own data only
PROPERTY_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")


@dataclass(frozen=True)
class Property:
    name: str
    sql: str
    type: str = "string"  # string | integer | number | boolean
    title: str = ""


@dataclass(frozen=True, eq=False)  # hashed by identity: one object per layer
class Layer:
    id: str
    title: str
    group: str
    geometry_type: str  # Point | LineString | MultiLineString | Polygon
    properties: tuple[Property, ...]
    from_sql: str
    geom_sql: str  # EPSG:4326
    geom_3857_sql: str
    id_sql: str | None = None  # an integer feature id (MVT ids must be integers)
    key_sql: str | None = None  # the OGC feature id when it is not id_sql (text)
    where_sql: str = "true"
    zoom_sql: str = "true"  # may use %(z)s: which features a zoom level shows
    minzoom: int = 0
    maxzoom: int = 22
    datetime_sql: str | None = None
    rides: bool = False  # takes the ride filters (time range, mine) and their privacy
    filtered_from_sql: str | None = None  # FROM used when a ride filter is given
    access: str = PUBLIC
    style: tuple[dict, ...] = ()  # MapLibre layers (without id/source/source-layer)
    legend: tuple[tuple[str, str], ...] = ()  # (colour, label)
    popup: str = ""  # what a click opens in the map: "road", "event", "stop", …
    simplify: bool = True
    description: str = ""
    cache: bool = True  # False: rendered on every request (data that changes by the second)
    # the data its tiles are drawn from (matching_and_import_db.tilecache: RIDES, OSM,
    # STOPS): a change to it retires the layer's cached tiles. A layer that declares none
    # is never cached, since nothing would tell the cache when it changes.
    depends_on: frozenset[str] = frozenset()

    # values the fragments bind (%(name)s), for layers made from a definition at request
    # time (a workspace map's filters); catalog layers have none
    params: tuple[tuple[str, object], ...] = ()

    @property
    def cached(self) -> bool:
        return self.cache and bool(self.depends_on)

    @property
    def feature_key_sql(self) -> str:
        return self.key_sql or self.id_sql or "NULL"

    def property(self, name: str) -> Property:
        for p in self.properties:
            if p.name == name:
                return p
        raise KeyError(name)

    def visible_to(self, user) -> bool:
        return self.access == PUBLIC or (self.access == USER and user is not None)

    def describe(self) -> dict:
        return {"id": self.id, "title": self.title, "group": self.group,
                "geometry_type": self.geometry_type, "minzoom": self.minzoom,
                "maxzoom": self.maxzoom, "access": self.access, "rides": self.rides,
                "properties": {p.name: p.type for p in self.properties},
                "style": list(self.style), "legend": [list(x) for x in self.legend],
                "popup": self.popup, "description": self.description}


class Freshness(Enum):
    """How recently the layers made from database rows must have been read."""
    ROUTINE = "routine"  # every request: a check every few seconds is enough
    UNKNOWN_LAYER = "unknown_layer"  # a request names a layer not known yet: soon
    NOW = "now"  # an admin's page or edit: a dataset published a moment ago is known


def _no_datasets(freshness: Freshness) -> dict[str, Layer]:
    return {}


@dataclass
class Catalog:
    layers: dict[str, Layer] = field(default_factory=dict)
    # layers registered from the database (published datasets, layers/datasets.py)
    datasets: Callable[[Freshness], dict[str, Layer]] = _no_datasets

    def all_layers(self, freshness: Freshness = Freshness.ROUTINE) -> dict[str, Layer]:
        extra = self.datasets(freshness)
        return {**self.layers, **{k: v for k, v in extra.items() if k not in self.layers}}

    def register(self, layer: Layer) -> Layer:
        if layer.id in self.layers:
            raise ValueError(f"layer {layer.id!r} is registered twice")
        if not layer.id.replace("_", "").isalnum() or not layer.id.islower():
            raise ValueError(f"layer id {layer.id!r}: lowercase letters, digits and _ only")
        names = [p.name for p in layer.properties]
        bad = [n for n in names if not PROPERTY_NAME.fullmatch(n)]
        if bad:
            raise ValueError(f"layer {layer.id!r}: property name(s) {', '.join(map(repr, bad))}"
                             ": lowercase letters, digits and _, not starting with a digit")
        if len(set(names)) != len(names):
            raise ValueError(f"layer {layer.id!r}: a property name appears twice")
        self.layers[layer.id] = layer
        return layer

    def get(self, layer_id: str, user=None) -> Layer:
        """The layer, or NotFound: layers a user may not see do not exist for them."""
        layer = self.layers.get(layer_id)
        if layer is None:
            layer = (self.datasets(Freshness.ROUTINE).get(layer_id)
                     or self.datasets(Freshness.UNKNOWN_LAYER).get(layer_id))
        if layer is None or not layer.visible_to(user):
            raise NotFound(f"no layer {layer_id!r}")
        return layer

    def visible(self, user=None) -> list[Layer]:
        return [la for la in self.all_layers().values() if la.visible_to(user)]

    def layers_depending_on(self, data: str) -> list[str]:
        """The ids of the layers drawn from this data (what a change to it invalidates)."""
        return [la.id for la in self.layers.values() if data in la.depends_on]

    def tile_invalidator(self, redis) -> TileInvalidator:
        """The one way the app and the scheduler tell the tile cache what changed."""
        return TileInvalidator(redis, self.layers_depending_on)


_catalog: Catalog | None = None


def catalog() -> Catalog:
    """The process's catalog, built on first use (nothing happens at import)."""
    global _catalog
    if _catalog is None:
        from matching_and_import_db.layers.builtin import register_builtin
        from matching_and_import_db.layers.datasets import DATASETS
        c = Catalog(datasets=DATASETS.refresh)
        register_builtin(c)
        _catalog = c
    return _catalog
