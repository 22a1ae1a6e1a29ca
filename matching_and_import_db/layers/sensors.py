"""The sensors layer of the catalog: the devices of the registry where they are (tiles and
OGC API Features); the map draws their latest values over it from the live stream."""

from __future__ import annotations

from matching_and_import_db.layers.catalog import Catalog, Layer, Property

SENSORS = Layer(
    id="sensors", title="Sensors", group="Live", geometry_type="Point",
    properties=(Property("device", "d.device_id"), Property("name", "d.name"),
                Property("kind", "d.kind"),
                Property("last_seen", "to_char(d.last_seen AT TIME ZONE 'UTC',"
                         " 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')")),
    from_sql="sensor_devices d", key_sql="d.device_id", geom_sql="d.geom",
    geom_3857_sql="d.geom_3857", where_sql="d.geom IS NOT NULL", simplify=False,
    # the registry changes with every message that moves a device: never cached
    cache=False,
    style=({"type": "circle", "paint": {
        "circle-radius": ["interpolate", ["linear"], ["zoom"], 10, 4, 16, 8],
        "circle-color": "#00838f", "circle-stroke-color": "#fff",
        "circle-stroke-width": 1.5}},),
    legend=(("#00838f", "a sensor (its latest value beside it)"),), popup="sensor",
    description="Sensors sending over MQTT (LoRaWAN via The Things Stack, or plain JSON), "
                "with their latest values live.")


def register_sensor_layers(c: Catalog) -> None:
    c.register(SENSORS)
