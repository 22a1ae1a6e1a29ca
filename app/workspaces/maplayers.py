"""A workspace map's layers as catalog Layers, so that their tiles go the one tile path
(app/maps/tiles.py: PostGIS ST_AsMVT, the Redis tile cache, ETags).

Every value of a definition (the dataset, property names, filter values) is bound as a
parameter; the only names written into the SQL are property aliases, which the
definition's reader allows as [A-Za-z_][A-Za-z0-9_]* only. Rows are read under the
workspace's row-level security (the view sets the workspace first).
"""

from __future__ import annotations

from matching_and_import_db.layers.catalog import Layer, Property
from matching_and_import_db.workspaces.maps import COLUMNS, MapDefinition, MapLayer

# op -> SQL over the bound %(key)s and %(value)s; the property's text or number
TEXT = "coalesce(d.properties ->> {key}, {column})"
OP_SQL = {
    "eq": "{text} = {value}", "ne": "{text} IS DISTINCT FROM {value}",
    "in": "{text} = ANY({value})", "exists": "d.properties ? {key}",
    "lt": "{number} < {value}", "le": "{number} <= {value}",
    "gt": "{number} > {value}", "ge": "{number} >= {value}",
}
NUMBER = ("CASE WHEN jsonb_typeof(d.properties -> {key}) = 'number'"
          " THEN (d.properties ->> {key})::float8 END")
COLUMN_SQL = {"identifier": "d.identifier", "name": "d.name", "survey_id": "d.survey_id",
              "form_id": "d.form_id", "modified_at": "d.modified_at::text"}


def layer_id(map_id: int, version: int, index: int) -> str:
    """Unique per map version: a replaced map never serves the old version's cached tiles."""
    return f"wsmap{map_id}v{version}l{index}"


def layer_ids(map_id: int, version: int, definition: MapDefinition) -> list[str]:
    return [layer_id(map_id, version, i) for i in range(len(definition.layers))]


def map_layers(map_id: int, version: int, definition: MapDefinition,
               dataset_ids: dict[str, int]) -> list[Layer]:
    return [_layer(layer_id(map_id, version, i), spec, dataset_ids.get(spec.dataset, -1),
                   definition) for i, spec in enumerate(definition.layers)]


def _layer(lid: str, spec: MapLayer, dataset_id: int, definition: MapDefinition) -> Layer:
    params: dict[str, object] = {f"{lid}_ds": dataset_id}
    where = [f"d.dataset_id = %({lid}_ds)s"]
    for j, flt in enumerate(spec.filters):
        key, value = f"%({lid}_k{j})s", f"%({lid}_v{j})s"
        params[f"{lid}_k{j}"] = flt.property
        params[f"{lid}_v{j}"] = flt.value
        column = COLUMN_SQL.get(flt.property, "NULL")
        where.append("(" + OP_SQL[flt.op].format(
            text=TEXT.format(key=key, column=column), number=NUMBER.format(key=key),
            key=key, value=value) + ")")
    props = []
    for j, name in enumerate(spec.properties):
        if name in COLUMNS:
            sql = COLUMN_SQL[name]
        else:
            params[f"{lid}_p{j}"] = name
            sql = f"d.properties ->> %({lid}_p{j})s"
        props.append(Property(name, sql))
    paint = {"circle-radius": 5, "circle-color": "#d1495b", **spec.paint}
    return Layer(
        id=lid, title=spec.id, group=definition.title, geometry_type="Point",
        properties=tuple(props), from_sql="workspace_datapoints d",
        geom_sql="d.geom", geom_3857_sql="d.geom_3857", id_sql=None,
        key_sql="d.identifier", where_sql=" AND ".join(where),
        minzoom=definition.minzoom, maxzoom=definition.maxzoom, simplify=False,
        style=({"type": "circle", "paint": paint},), params=tuple(params.items()),
        # cached like every layer; the map's own ids are invalidated when its dataset's
        # datapoints change (service._invalidate): these layers are not in the catalog
        depends_on=frozenset({f"workspace_dataset:{dataset_id}"}))


def dataset_layer(dataset_slug: str, dataset_id: int) -> Layer:
    """A whole dataset as a Layer for OGC API Features: every datapoint with its Flow
    fields and its answers, under the identifier as feature id."""
    lid = f"wsds{dataset_id}"
    return Layer(
        id=lid, title=dataset_slug, group="workspace", geometry_type="Point",
        properties=(Property("name", "d.name"), Property("surveyId", "d.survey_id"),
                    Property("formId", "d.form_id"),
                    Property("createdAt", "to_json(d.created_at)"),
                    Property("lastUpdateDateTime", "to_json(d.modified_at)"),
                    Property("answers", "d.properties")),
        from_sql="workspace_datapoints d", geom_sql="d.geom", geom_3857_sql="d.geom_3857",
        key_sql="d.identifier", where_sql=f"d.dataset_id = %({lid}_ds)s",
        params=((f"{lid}_ds", dataset_id),), cache=False)
