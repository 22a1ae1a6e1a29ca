"""SQL for a layer's tiles and features, composed with psycopg2.sql from the catalog's
fragments only. Request values are always bound (%(name)s placeholders); identifiers (the
layer id, property aliases) are quoted; a fragment's own text, whatever it holds (a `%` in
a LIKE pattern, braces in a JSON literal), goes into the statement as it is written."""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache

from psycopg2 import sql

from matching_and_import_db.layers.catalog import USER, Layer
from matching_and_import_db.rides.visibility import RideFilter

# The request values a fragment may bind, written %(name)s in it (catalog.py).
FRAGMENT_VALUES = ("z", "x", "y", "pixel", "tolerance", "viewer_id", "date_from", "date_to")
# The slots a fragment may name, written {name} in it (catalog.py).
FRAGMENT_SLOTS = ("env", "rides_e", "rides_u", "rides_t")
_MARKER = re.compile(r"\{(" + "|".join(FRAGMENT_SLOTS) + r")\}|%\((\w+)\)s")

Z, X, Y = sql.Placeholder("z"), sql.Placeholder("x"), sql.Placeholder("y")
TILE_ENV = sql.SQL("ST_TileEnvelope({}, {}, {})").format(Z, X, Y)
TILE_ENV_MARGIN = sql.SQL("ST_TileEnvelope({}, {}, {}, margin => 64.0 / 4096)").format(Z, X, Y)
WORLD_ENV = sql.SQL("ST_MakeEnvelope(-20037508.34, -20037508.34, 20037508.34, 20037508.34,"
                    " 3857)")
BBOX_ENV = sql.SQL("ST_Transform(ST_MakeEnvelope({}, {}, {}, {}, 4326), 3857)").format(
    *map(sql.Placeholder, ("x0", "y0", "x1", "y1")))


def fragment(text: str, slots: dict[str, sql.Composable] | None = None,
             values: tuple[str, ...] = FRAGMENT_VALUES) -> sql.Composed:
    """A catalog fragment as composed SQL: its {slot} markers filled from slots, its
    %(value)s markers naming one of `values` as bound placeholders, and all the rest
    literal: a `%` is escaped for the driver, braces are not format fields."""
    parts: list[sql.Composable] = []
    pos = 0
    for found in _MARKER.finditer(text):
        slot, value = found.groups()
        if slot is None and value not in values:
            continue  # literal text that merely looks like a placeholder
        parts.append(sql.SQL(text[pos:found.start()].replace("%", "%%")))
        if slot is not None:
            if slots is None or slot not in slots:
                raise ValueError(f"{{{slot}}} is not available in this fragment: {text!r}")
            parts.append(slots[slot])
        else:
            parts.append(sql.Placeholder(value))
        pos = found.end()
    parts.append(sql.SQL(text[pos:].replace("%", "%%")))
    return sql.Composed(parts)


def layer_fragment(layer: Layer, text: str,
                   slots: dict[str, sql.Composable] | None = None) -> sql.Composed:
    """A fragment of `layer`: it may also bind the layer's own values (Layer.params, the
    filters of a workspace map's definition)."""
    return fragment(text, slots, FRAGMENT_VALUES + tuple(name for name, _ in layer.params))


def effective_filter(layer: Layer, flt: RideFilter) -> RideFilter:
    """A user-only layer always shows the viewer's own data; other layers ignore ride
    filters."""
    if layer.access == USER:
        return RideFilter(flt.viewer_id, True, flt.date_from, flt.date_to)
    if not layer.rides:
        return RideFilter()
    return flt


def _slots(flt: RideFilter, env: sql.Composable) -> dict[str, sql.Composable]:
    return {"env": env, "rides_e": flt.scope(sql.Identifier("e", "time")),
            "rides_u": flt.scope(sql.Identifier("u", "time")),
            "rides_t": flt.scope(sql.Identifier("t", "recorded_at"))}


def _from_where(layer: Layer, flt: RideFilter, env: sql.Composable
                ) -> tuple[sql.Composed, sql.Composed]:
    slots = _slots(flt, env)
    from_sql = layer.filtered_from_sql if flt.filtered and layer.filtered_from_sql \
        else layer.from_sql
    return layer_fragment(layer, from_sql, slots), layer_fragment(layer, layer.where_sql, slots)


@lru_cache(maxsize=512)  # bounded: workspace maps make layers at request time
def tile_sql(layer: Layer, flt_shape: RideFilter) -> sql.Composed:
    """One layer's MVT for %(z)s/%(x)s/%(y)s, at most %(cap)s features, simplified by
    %(tolerance)s. flt_shape only decides which clauses exist (values are bound)."""
    from_sql, where_sql = _from_where(layer, flt_shape, TILE_ENV_MARGIN)
    geom_3857 = layer_fragment(layer, layer.geom_3857_sql)
    geom = geom_3857
    if layer.simplify:
        # from z14 the snapping to the tile grid in ST_AsMVTGeom is simplification enough
        geom = sql.SQL("CASE WHEN {z} < 14 THEN ST_Simplify({g}, {tolerance}) ELSE {g} END"
                       ).format(z=Z, g=geom_3857, tolerance=sql.Placeholder("tolerance"))
    cols = [sql.SQL("ST_AsMVTGeom({}, {}, 4096, 64, true) AS geom").format(geom, TILE_ENV)]
    if layer.id_sql:
        cols.append(sql.SQL("{} AS __id").format(layer_fragment(layer, layer.id_sql)))
    cols += [sql.SQL("{} AS {}").format(layer_fragment(layer, p.sql), sql.Identifier(p.name))
             for p in layer.properties]
    features = sql.SQL("SELECT {cols} FROM {from_sql} WHERE {geom} && {env} AND {where_sql}"
                       " AND {zoom} LIMIT {cap}").format(
        cols=sql.SQL(", ").join(cols), from_sql=from_sql, geom=geom_3857,
        env=TILE_ENV_MARGIN, where_sql=where_sql, zoom=layer_fragment(layer, layer.zoom_sql),
        cap=sql.Placeholder("cap"))
    id_arg = sql.SQL(", '__id'") if layer.id_sql else sql.SQL("")
    # Many tiles are asked for at once: parallel workers for one of them only take cores
    # from the others (measured: +45 % tiles/s without). For this transaction only.
    return sql.SQL("SET LOCAL max_parallel_workers_per_gather = 0; "
                   "SELECT coalesce(ST_AsMVT(f, {name}, 4096, 'geom'{id_arg}), '')"
                   " FROM ({features}) f WHERE f.geom IS NOT NULL").format(
        name=sql.Literal(layer.id), id_arg=id_arg, features=features)


# The text of each statement shape, rendered once per process: composing and quoting a
# tile statement costs about 70 µs and a feature page's 0.4-0.6 ms, paid on every cold
# tile and every items request otherwise. The quoting depends only on the database (its
# encoding), the same for every connection of the app. Bounded: shapes are few (layers ×
# filter clauses × property filters), and a flood of odd ones only empties it.
_TEXT: dict[tuple, str] = {}
_MAX_TEXTS = 4096


def statement_text(key: tuple, build: Callable[[], sql.Composable], context) -> str:
    """The statement build() composes, as text for cursor.execute, rendered once per key;
    key names everything the statement depends on. context: a psycopg2 cursor."""
    text = _TEXT.get(key)
    if text is None:
        if len(_TEXT) >= _MAX_TEXTS:
            _TEXT.clear()
        text = _TEXT[key] = build().as_string(context)
    return text


def property_param(name: str) -> str:
    """The bound parameter of an OGC property filter (names follow the identifier rule of
    catalog.PROPERTY_NAME, so this is a valid placeholder name)."""
    return f"p_{name}"


def feature_sql(layer: Layer, flt_shape: RideFilter, *, bbox: bool, one: bool,
                datetime_from: bool, datetime_to: bool, props: tuple[str, ...],
                estimate: bool = False) -> sql.Composed:
    """GeoJSON features as text, each row one complete Feature (assembled in SQL: the
    geometry from ST_AsGeoJSON, the properties by json_build_object). Property filters
    compare the property's text with %(p_<name>)s; names come from the catalog."""
    from_sql, where_sql = _from_where(layer, flt_shape, BBOX_ENV if bbox else WORLD_ENV)
    where = [where_sql]
    if bbox:
        where.append(sql.SQL("{} && {}").format(layer_fragment(layer, layer.geom_3857_sql),
                                                BBOX_ENV))
    key = layer_fragment(layer, layer.feature_key_sql)
    if one:
        where.append(sql.SQL("({})::text = {}").format(key, sql.Placeholder("fid")))
    if layer.datetime_sql and datetime_from:
        where.append(sql.SQL("{} >= {}").format(layer_fragment(layer, layer.datetime_sql),
                                                sql.Placeholder("dt_from")))
    if layer.datetime_sql and datetime_to:
        where.append(sql.SQL("{} <= {}").format(layer_fragment(layer, layer.datetime_sql),
                                                sql.Placeholder("dt_to")))
    for name in props:
        where.append(sql.SQL("({})::text = {}").format(
            layer_fragment(layer, layer.property(name).sql), sql.Placeholder(property_param(name))))
    where_all = sql.SQL(" AND ").join(where)
    if estimate:
        return sql.SQL("SELECT 1 FROM {} WHERE {}").format(from_sql, where_all)
    # json_build_object takes at most 100 arguments: fine for our property lists
    pairs = sql.SQL(", ").join(sql.SQL("{}, {}").format(sql.Literal(p.name),
                                                        layer_fragment(layer, p.sql))
                               for p in layer.properties)
    feature = sql.SQL(
        "{head} || to_json({key})::text || {geometry} || coalesce(ST_AsGeoJSON({geom}, 6),"
        " 'null') || {properties} || json_build_object({pairs})::text || {tail}").format(
        head=sql.Literal('{"type":"Feature","id":'), key=key,
        geometry=sql.Literal(',"geometry":'), geom=layer_fragment(layer, layer.geom_sql),
        properties=sql.Literal(',"properties":'), pairs=pairs, tail=sql.Literal("}"))
    order = sql.SQL(" ORDER BY {}").format(key) if not one else sql.SQL("")
    return sql.SQL("SELECT {feature} FROM {from_sql} WHERE {where}{order}"
                   " LIMIT %(limit)s OFFSET %(offset)s").format(
        feature=feature, from_sql=from_sql, where=where_all, order=order)
