"""The tile cache in Redis, shared by every app process, and its invalidation.

Keys, per layer:
  tiles:{layer}:gen            generation; a big change (an OSM import) bumps it, which
                               retires every cached tile of the layer at once
  tiles:{layer}:seq            bumped by every invalidation; a tile rendered from data read
                               before a change is not stored after it (see WRITE)
  tiles:{layer}:{gen}:{z}/{x}/{y}
                               a hash: filter variant ("" for the shared public tile, or a
                               user's filtered view) -> 32 hex digits of ETag + the MVT bytes

Empty tiles are cached like any other. Invalidation after a commit deletes the tiles over
the changed area at every cached zoom (the dirty tiles and all their parents) with all
their variants; when that would be too many tiles it bumps the generation instead.

Which layers a change retires is said by the data that changed, not by layer ids: the
domain's operations name what they changed (RIDES, OSM, STOPS), and each layer of the
catalog declares the data it is drawn from (Layer.depends_on, in layers/). The app and
the scheduler build one TileInvalidator from the catalog; the domain calls its changed()
after it commits. Framework-free: it takes a Redis client and a function from data to
layer ids.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterable

import morecantile

log = logging.getLogger(__name__)

PREFIX = "tiles"
MAX_CACHED_ZOOM = 18  # deeper tiles are cheap to render and too many to invalidate
MAX_DIRTY_TILES = 4096  # per layer; more than this and the layer's generation is bumped

# What changed: the data a layer's tiles are drawn from (Layer.depends_on names these).
RIDES = "rides"  # rides, their events and passes, and the road statistics made of them
OSM = "osm"  # the imported OpenStreetMap roads and stops
STOPS = "stops"  # the published official stops, stop matches and problems

BBox = tuple[float, float, float, float]
WEB_MERCATOR = morecantile.tms.get("WebMercatorQuad")  # the grid of every tile we serve

# KEYS: gen and seq of each layer; ARGV: the tile, then each layer's key prefix and variant.
# Returns gen, seq, value (false on a miss) per layer: one round trip for any tile.
READ = """
local out = {}
for i = 1, #KEYS / 2 do
  local gen = redis.call('GET', KEYS[2 * i - 1]) or '0'
  local seq = redis.call('GET', KEYS[2 * i]) or '0'
  local key = ARGV[2 * i] .. gen .. ':' .. ARGV[1]
  out[#out + 1] = gen
  out[#out + 1] = seq
  out[#out + 1] = redis.call('HGET', key, ARGV[2 * i + 1])
end
return out
"""
WRITE = """
if (redis.call('GET', KEYS[1]) or '0') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[2], ARGV[2], ARGV[3])
redis.call('EXPIRE', KEYS[2], tonumber(ARGV[4]))
return 1
"""


def etag_of(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


class TileCache:
    def __init__(self, redis, ttl_seconds: int):
        self.redis = redis
        self.ttl = ttl_seconds
        self._read = redis.register_script(READ)
        self._write = redis.register_script(WRITE)

    def get_many(self, requests: list[tuple[str, int, int, int, str]]
                 ) -> list[tuple[str, str, str | None, bytes | None]]:
        """For each (layer, z, x, y, variant) of one tile: (generation, seq, etag, data) with
        etag and data None on a miss. One round trip for all."""
        keys, args = [], [f"{requests[0][1]}/{requests[0][2]}/{requests[0][3]}"]
        for layer, _, _, _, variant in requests:
            keys += [f"{PREFIX}:{layer}:gen", f"{PREFIX}:{layer}:seq"]
            args += [f"{PREFIX}:{layer}:", variant]
        flat = self._read(keys=keys, args=args)
        out = []
        for i in range(0, len(flat), 3):
            gen, seq, value = _text(flat[i]), _text(flat[i + 1]), flat[i + 2]
            if value is None:
                out.append((gen, seq, None, None))
            else:
                out.append((gen, seq, value[:32].decode(), value[32:]))
        return out

    def put(self, layer: str, z: int, x: int, y: int, variant: str, gen: str, seq: str,
            etag: str, data: bytes) -> bool:
        """Store unless the layer was invalidated since `seq` was read (or the cache is
        off: a TTL of 0)."""
        if self.ttl <= 0:
            return False
        return bool(self._write(
            keys=[f"{PREFIX}:{layer}:seq", f"{PREFIX}:{layer}:{gen}:{z}/{x}/{y}"],
            args=[seq, variant, etag.encode() + data, self.ttl]))


def _text(value) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def tiles_over(bbox: tuple[float, float, float, float], z: int) -> tuple[int, int, int, int]:
    """x0, y0, x1, y1 (inclusive) of the web-mercator tiles at zoom z covering a lon/lat
    bbox (morecantile's WebMercatorQuad; latitudes beyond its ±85.05° are clamped)."""
    west, south, east, north = bbox
    top_left = WEB_MERCATOR.tile(west, north, z, truncate=True)
    bottom_right = WEB_MERCATOR.tile(east, south, z, truncate=True)
    last = 2 ** z - 1
    return (min(max(top_left.x, 0), last), min(max(top_left.y, 0), last),
            min(max(bottom_right.x, 0), last), min(max(bottom_right.y, 0), last))


def dirty_tiles(bbox: tuple[float, float, float, float], margin_deg: float = 0.0005,
                max_zoom: int = MAX_CACHED_ZOOM) -> list[tuple[int, int, int]] | None:
    """Every cached tile (and so every parent) over the bbox, or None when more than
    MAX_DIRTY_TILES. The margin covers features drawn into the tile buffer."""
    x0, y0, x1, y1 = bbox
    grown = (x0 - margin_deg, y0 - margin_deg, x1 + margin_deg, y1 + margin_deg)
    # the tiles at the deepest zoom, once; a parent's x and y are its child's halved
    deepest = tiles_over(grown, max_zoom)
    out = []
    for z in range(max_zoom + 1):
        tx0, ty0, tx1, ty1 = (v >> (max_zoom - z) for v in deepest)
        if len(out) + (tx1 - tx0 + 1) * (ty1 - ty0 + 1) > MAX_DIRTY_TILES:
            return None
        out.extend((z, x, y) for x in range(tx0, tx1 + 1) for y in range(ty0, ty1 + 1))
    return out


def invalidate(redis, layers: Iterable[str], bbox: BBox | None = None) -> None:
    """Forget the cached tiles of these layers over bbox (lon/lat), or all of them
    (a generation bump) when bbox is None or covers too many tiles. Call after commit."""
    layers = list(layers)
    if not layers:
        return
    tiles = dirty_tiles(bbox) if bbox is not None else None
    pipe = redis.pipeline(transaction=False)
    for layer in layers:
        pipe.incr(f"{PREFIX}:{layer}:seq")
    if tiles is None:
        for layer in layers:
            pipe.incr(f"{PREFIX}:{layer}:gen")
        pipe.execute()
        return
    # the generations read in the same round trip as the seq bumps (a push's invalidation
    # is two round trips, not three): after its seq is bumped, no tile read before it is
    # stored, so reading gen here or after it deletes the same keys
    pipe.mget([f"{PREFIX}:{layer}:gen" for layer in layers])
    gens = pipe.execute()[-1]
    pipe = redis.pipeline(transaction=False)
    for layer, gen in zip(layers, gens, strict=True):
        gen = _text(gen) if gen is not None else "0"
        keys = [f"{PREFIX}:{layer}:{gen}:{z}/{x}/{y}" for z, x, y in tiles]
        for i in range(0, len(keys), 1000):
            pipe.unlink(*keys[i:i + 1000])
    pipe.execute()


def bbox_union(boxes: Iterable[BBox | None]) -> BBox | None:
    """The lon/lat box around every given box (None ones left out); None when none."""
    boxes = [b for b in boxes if b is not None]
    if not boxes:
        return None
    return (min(b[0] for b in boxes), min(b[1] for b in boxes),
            max(b[2] for b in boxes), max(b[3] for b in boxes))


class TileInvalidator:
    """Forgets the cached tiles of the layers drawn from data that changed.

    `layers_of(data)` names the layers that depend on that data (the catalog's answer,
    asked at each change so that layers registered later count too). Call changed() after
    the commit: a tile rendered before it is then never served again, and one rendered
    from data read before it is not stored (see WRITE)."""

    def __init__(self, redis, layers_of: Callable[[str], Iterable[str]]):
        self.redis = redis
        self.layers_of = layers_of

    def changed(self, data: str, bbox: BBox | None) -> None:
        """`data` changed over bbox (lon/lat); None: nothing of it moved on the map."""
        if bbox is not None:
            self._invalidate(data, bbox)

    def changed_everywhere(self, data: str) -> None:
        """`data` changed too widely for tile-by-tile deletion (an import): the layers'
        generations are bumped, retiring all their cached tiles at once."""
        self._invalidate(data, None)

    def layers_changed(self, layer_ids: Iterable[str], bbox: BBox | None) -> None:
        """Layers made from database rows (a published dataset, a workspace map's layers)
        are not in every process's catalog, so their change names them by id; bbox None:
        everywhere (their generation is bumped)."""
        self._retire(list(layer_ids), bbox, "layer")

    def _invalidate(self, data: str, bbox: BBox | None) -> None:
        self._retire(list(self.layers_of(data)), bbox, data)

    def _retire(self, layers: list[str], bbox: BBox | None, what: str) -> None:
        # never raises: the change is committed already, and if Redis cannot be told, the
        # cached tiles expire on their own (PORTAL_TILE_CACHE_SECONDS)
        if not layers:
            return
        try:
            invalidate(self.redis, layers, bbox)
        except Exception:
            log.exception("invalidating the cached %s tiles (%s) failed", what,
                          ", ".join(layers))
