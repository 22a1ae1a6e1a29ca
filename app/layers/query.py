"""SQL for a layer's tiles and features, assembled from the catalog's fragments only.
Request values are always bound (%(name)s); identifiers come from the catalog."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

from app.layers.catalog import USER, Layer
from matching_and_import_db.tracks import visibility

TILE_ENV = "ST_TileEnvelope(%(z)s, %(x)s, %(y)s)"
TILE_ENV_MARGIN = "ST_TileEnvelope(%(z)s, %(x)s, %(y)s, margin => 64.0 / 4096)"
WORLD_ENV = ("ST_MakeEnvelope(-20037508.34, -20037508.34, 20037508.34, 20037508.34,"
             " 3857)")
SHAPE = datetime(2000, 1, 3)
BBOX_ENV = "ST_Transform(ST_MakeEnvelope(%(x0)s, %(y0)s, %(x1)s, %(y1)s, 4326), 3857)"


@dataclass(frozen=True)
class RideFilter:
    """Whose rides a ride layer shows and when. Built by rides_filter(), which applies
    the privacy rounding: over other people's rides the range is whole weeks."""

    viewer_id: int | None = None
    mine: bool = False
    date_from: datetime | None = None
    date_to: datetime | None = None

    @property
    def filtered(self) -> bool:
        return self.mine or self.date_from is not None or self.date_to is not None

    @property
    def variant(self) -> str:
        """The cache variant: "" for the shared public view."""
        if not self.filtered:
            return ""
        return "|".join([f"u{self.viewer_id}" if self.mine else "pub",
                         self.date_from.isoformat() if self.date_from else "",
                         self.date_to.isoformat() if self.date_to else ""])

    def shape(self) -> RideFilter:
        """Which clauses the SQL needs, without the values (a key for cached SQL)."""
        return RideFilter(None, self.mine, SHAPE if self.date_from else None,
                          SHAPE if self.date_to else None)

    def params(self) -> dict:
        return {"viewer_id": self.viewer_id, "date_from": self.date_from,
                "date_to": self.date_to}

    def scope(self, time_sql: str) -> str:
        clauses = [visibility.own("%(viewer_id)s") if self.mine else visibility.PUBLISHED]
        if self.date_from is not None:
            clauses.append(f"{time_sql} >= %(date_from)s")
        if self.date_to is not None:
            clauses.append(f"{time_sql} < %(date_to)s")
        return "(" + " AND ".join(clauses) + ")"


def effective_filter(layer: Layer, flt: RideFilter) -> RideFilter:
    """A user-only layer always shows the viewer's own data; other layers ignore ride
    filters."""
    if layer.access == USER:
        return RideFilter(flt.viewer_id, True, flt.date_from, flt.date_to)
    if not layer.rides:
        return RideFilter()
    return flt


def _fragments(layer: Layer, flt: RideFilter, env: str) -> tuple[str, str]:
    frag = {"env": env, "rides_e": flt.scope("e.time"), "rides_u": flt.scope("u.time"),
            "rides_t": flt.scope("t.recorded_at")}
    from_sql = layer.filtered_from_sql if flt.filtered and layer.filtered_from_sql \
        else layer.from_sql
    return from_sql.format(**frag), layer.where_sql.format(**frag)


@lru_cache(maxsize=512)  # bounded: workspace maps make layers at request time
def tile_sql(layer: Layer, flt_shape: RideFilter) -> str:
    """One layer's MVT for %(z)s/%(x)s/%(y)s, at most %(cap)s features, simplified by
    %(tolerance)s. flt_shape only decides which clauses exist (values are bound)."""
    from_sql, where_sql = _fragments(layer, flt_shape, TILE_ENV_MARGIN)
    geom = layer.geom_3857_sql
    if layer.simplify:
        # from z14 the snapping to the tile grid in ST_AsMVTGeom is simplification enough
        geom = f"CASE WHEN %(z)s < 14 THEN ST_Simplify({geom}, %(tolerance)s) ELSE {geom} END"
    cols = [f"ST_AsMVTGeom({geom}, {TILE_ENV}, 4096, 64, true) AS geom"]
    if layer.id_sql:
        cols.append(f"{layer.id_sql} AS __id")
    cols += [f'{p.sql} AS "{p.name}"' for p in layer.properties]
    sql = (f"SELECT {', '.join(cols)} FROM {from_sql}"
           f" WHERE {layer.geom_3857_sql} && {TILE_ENV_MARGIN}"
           f" AND {where_sql} AND {layer.zoom_sql} LIMIT %(cap)s")
    id_arg = ", '__id'" if layer.id_sql else ""
    # Many tiles are asked for at once: parallel workers for one of them only take cores
    # from the others (measured: +45 % tiles/s without). For this transaction only.
    return ("SET LOCAL max_parallel_workers_per_gather = 0; "
            f"SELECT coalesce(ST_AsMVT(f, '{layer.id}', 4096, 'geom'{id_arg}), '')"
            f" FROM ({sql}) f WHERE f.geom IS NOT NULL")


def feature_sql(layer: Layer, flt_shape: RideFilter, *, bbox: bool, one: bool,
                datetime_from: bool, datetime_to: bool, props: tuple[str, ...],
                estimate: bool = False) -> str:
    """GeoJSON features as text, each row one complete Feature (assembled in SQL: the
    geometry from ST_AsGeoJSON, the properties by json_build_object). Property filters
    compare the property's text with %(p_<name>)s; names come from the catalog."""
    from_sql, where_sql = _fragments(layer, flt_shape, BBOX_ENV if bbox else WORLD_ENV)
    where = [where_sql]
    if bbox:
        where.append(f"{layer.geom_3857_sql} && {BBOX_ENV}")
    if one:
        where.append(f"({layer.feature_key_sql})::text = %(fid)s")
    if layer.datetime_sql and datetime_from:
        where.append(f"{layer.datetime_sql} >= %(dt_from)s")
    if layer.datetime_sql and datetime_to:
        where.append(f"{layer.datetime_sql} <= %(dt_to)s")
    for name in props:
        where.append(f"({layer.property(name).sql})::text = %(p_{name})s")
    where_all = " AND ".join(where)
    if estimate:
        return f"SELECT 1 FROM {from_sql} WHERE {where_all}"
    pairs = ", ".join(f"'{p.name}', {p.sql}" for p in layer.properties)
    # json_build_object takes at most 100 arguments: fine for our property lists
    key = layer.feature_key_sql
    feature = ("'{\"type\":\"Feature\",\"id\":' || to_json(" + key + ")::text"
               " || ',\"geometry\":' || coalesce(ST_AsGeoJSON(" + layer.geom_sql + ", 6),"
               " 'null') || ',\"properties\":' || json_build_object(" + pairs + ")::text"
               " || '}'")
    order = f" ORDER BY {key}" if not one else ""
    return (f"SELECT {feature} FROM {from_sql} WHERE {where_all}{order}"
            f" LIMIT %(limit)s OFFSET %(offset)s")
