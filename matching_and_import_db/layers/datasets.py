"""Published datasets as catalog layers: each row of published_datasets becomes a Layer
over its own table, so tiles, OGC API Features, /api/layers, the style and /api/geo serve
it like any built-in layer.

The catalog asks here on use (layers.catalog.catalog): the rows are read again when
their signature (slug and version of each) changed, checked at most every MAX_AGE seconds
per process for the freshness the caller asks (catalog.Freshness): every few seconds for
routine requests, soon when a request names a layer the catalog does not know yet (a
dataset just published; limited, since anyone can send such requests), and at once for an
admin's page or edit.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from contextlib import AbstractContextManager

from psycopg2 import sql

from matching_and_import_db.datasets import store
from matching_and_import_db.layers.catalog import Freshness, Layer, Property

log = logging.getLogger(__name__)
MAX_AGE = {Freshness.ROUTINE: 2.0, Freshness.UNKNOWN_LAYER: 0.25, Freshness.NOW: 0.0}
PROPERTY_TYPES = {"bigint": "integer", "double precision": "number", "boolean": "boolean"}
# date and time columns go out as ISO text (vector tiles know no dates)
AS_TEXT = {"date", "timestamptz"}


def _ident(conn, *parts: str) -> str:
    """A quoted identifier as SQL text, for the catalog's fragments."""
    return sql.Identifier(*parts).as_string(conn)


def _style(row: store.DatasetRow) -> tuple[dict, ...]:
    colour = row.colour
    point = {"type": "circle", "filter": ["==", ["geometry-type"], "Point"], "paint": {
        "circle-radius": ["interpolate", ["linear"], ["zoom"], 10, 2.5, 17, 6],
        "circle-color": colour, "circle-stroke-color": "#fff", "circle-stroke-width": 1}}
    line = {"type": "line", "filter": ["==", ["geometry-type"], "LineString"],
            "paint": {"line-color": colour, "line-width": 2}}
    fill = {"type": "fill", "filter": ["==", ["geometry-type"], "Polygon"],
            "paint": {"fill-color": colour, "fill-opacity": 0.35, "fill-outline-color": colour}}
    by_type = {"Point": (point,), "LineString": (line,), "Polygon": (fill,)}
    return by_type.get(row.geometry_type, (fill, line, point))


def layer_of(conn, row: store.DatasetRow) -> Layer:
    alias = "d"
    props = []
    for name, kind in row.columns:
        column = f"{alias}.{_ident(conn, name)}"
        props.append(Property(name, f"{column}::text" if kind in AS_TEXT else column,
                              PROPERTY_TYPES.get(kind, "string")))
    return Layer(
        id=row.slug, title=row.title, group=row.group,
        geometry_type=row.geometry_type if row.geometry_type != "Geometry" else "Polygon",
        properties=tuple(props),
        from_sql=f"{_ident(conn, store.SCHEMA, row.slug)} {alias}", id_sql=f"{alias}.fid",
        geom_sql=f"{alias}.geom", geom_3857_sql=f"{alias}.geom_3857",
        simplify=row.geometry_type != "Point", style=_style(row),
        legend=((row.colour, row.title),), popup="dataset",
        # cached like the others; a publish retires the layer's tiles by its id
        # (datasets/pipeline.py), since the scheduler's catalog holds no dataset layers
        depends_on=frozenset({f"dataset:{row.slug}"}),
        description=row.description or f"{row.feature_count:,} features, published by a "
                                        "dataset pipeline.")


class DatasetLayers:
    """The process's view of published datasets, refreshed when their signature changes."""

    def __init__(self) -> None:
        # how to get a database connection: a context manager, or None where there is none
        # (outside a request). The web app sets it when it starts (app/__init__.py); a
        # process without it (the scheduler) sees no dataset layers.
        self.connect: Callable[[], AbstractContextManager | None] | None = None
        self._lock = threading.Lock()
        self._signature: str | None = None
        self._checked = 0.0
        self.layers: dict[str, Layer] = {}

    def refresh(self, freshness: Freshness = Freshness.ROUTINE) -> dict[str, Layer]:
        connection = self.connect() if self.connect is not None else None
        if connection is None:
            return self.layers
        now = time.monotonic()
        if now - self._checked < MAX_AGE[freshness]:
            return self.layers
        with self._lock:
            with connection as conn:
                try:
                    with conn.cursor() as cur:
                        signature = store.catalog_signature(cur)
                        if signature != self._signature:
                            rows = store.catalog_rows(cur)
                            self.layers = {r.slug: layer_of(conn, r) for r in rows}
                            self._signature = signature
                finally:
                    conn.rollback()
            self._checked = now
        return self.layers


DATASETS = DatasetLayers()
