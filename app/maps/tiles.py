"""Vector tiles of catalog layers, built by PostGIS and cached in Redis.

A request names one or more layers; each layer's tile is looked up in the cache (one
round trip for all), rendered by PostGIS on a miss (ST_AsMVT over && on the indexed 3857
geometry) and stored. MVT layers concatenate, so a combined tile is the layers' bytes one
after the other, and its ETag is derived from theirs.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from flask import current_app

from app.dbapi import cursor
from app.metrics.http import tile_cache_result
from app.redis_client import get_redis, if_redis
from matching_and_import_db.errors import InputError
from matching_and_import_db.layers.catalog import Layer, catalog
from matching_and_import_db.layers.query import effective_filter, statement_text, tile_sql
from matching_and_import_db.rides.visibility import RideFilter
from matching_and_import_db.tilecache import (
    MAX_CACHED_ZOOM,
    TileCache,
    TileInvalidator,
    etag_of,
)

WORLD_METERS = 40075016.68557849


@dataclass(frozen=True)
class Tile:
    data: bytes
    etag: str
    shared: bool  # the same for everyone (may be cached by proxies)


def check_tile(z: int, x: int, y: int) -> None:
    if not 0 <= z <= 22 or not (0 <= x < 2 ** z and 0 <= y < 2 ** z):
        raise InputError(f"no tile {z}/{x}/{y}: x and y must lie in 0..2^z-1, z in 0..22")


def tile_cache() -> TileCache:
    cache = current_app.extensions.get("tile_cache")
    if cache is None:
        cache = TileCache(get_redis(), current_app.config["PORTAL"].tile_cache_seconds)
        current_app.extensions["tile_cache"] = cache
    return cache


def tile_invalidator() -> TileInvalidator:
    """The app's way to tell the tile cache what changed (after the commit): the catalog
    says which layers are drawn from that data."""
    invalidator = current_app.extensions.get("tile_invalidator")
    if invalidator is None:
        invalidator = catalog().tile_invalidator(get_redis())
        current_app.extensions["tile_invalidator"] = invalidator
    return invalidator


def layers_tile(layers: list[Layer], z: int, x: int, y: int, flt: RideFilter) -> Tile:
    check_tile(z, x, y)
    filters = [effective_filter(layer, flt) for layer in layers]
    cacheable = z <= MAX_CACHED_ZOOM
    cache = tile_cache() if cacheable else None
    misses = [(None, None, None, None)] * len(layers)
    # without Redis every tile is rendered and nothing stored (None: the cache is bypassed)
    hits = if_redis("tile cache read", None, cache.get_many,
                    [(la.id, z, x, y, f.variant) for la, f in zip(layers, filters, strict=True)]) \
        if cache else misses
    if hits is None:
        cache, hits = None, misses
    elif cache is not None:
        found = sum(1 for h in hits if h[3] is not None)
        tile_cache_result(True, found)
        tile_cache_result(False, len(hits) - found)
    parts, etags = [], []
    for layer, f, (gen, seq, etag, data) in zip(layers, filters, hits, strict=True):
        if data is None:
            data = render(layer, z, x, y, f)
            etag = etag_of(data)
            if cache and layer.cached:
                if_redis("tile cache write", False, cache.put,
                         layer.id, z, x, y, f.variant, gen, seq, etag, data)
        parts.append(data)
        etags.append(etag)
    etag = etags[0] if len(etags) == 1 else \
        hashlib.blake2b("".join(etags).encode(), digest_size=16).hexdigest()
    return Tile(b"".join(parts), etag, shared=all(f.variant == "" for f in filters))


def render(layer: Layer, z: int, x: int, y: int, flt: RideFilter) -> bytes:
    settings = current_app.config["PORTAL"]
    # a quarter of a screen pixel (4 of the tile's 4096 units): invisible
    tolerance = WORLD_METERS / 2 ** z / 1024
    shape = flt.shape()
    with cursor() as cur:
        statement = statement_text(("tile", layer, shape), lambda: tile_sql(layer, shape), cur)
        cur.execute(statement, {
            "z": z, "x": x, "y": y, "tolerance": tolerance,
            "pixel": WORLD_METERS / 2 ** z / 512, "cap": settings.tile_max_features,
            **flt.params(), **dict(layer.params)})
        (data,) = cur.fetchone()
    return bytes(data) if data else b""
