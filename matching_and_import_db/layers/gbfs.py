"""The GBFS layers of the catalog, over the tables the poller publishes (app/models/gbfs.py).
Rendered fresh on every request (cache=False): the poller changes them every few seconds
and knows nothing of the tile cache; the map's live stream updates them in between."""

from __future__ import annotations

from matching_and_import_db.layers.catalog import Catalog, Layer, Property

# the Oslo city-bike colours: none red, 3 or fewer orange, more green
BIKES_COLOUR = ["step", ["coalesce", ["get", "num_bikes_available"], -1],
                "#9e9e9e", 0, "#d7191c", 1, "#f28e2b", 4, "#1a9641"]

GBFS_STATIONS = Layer(
    id="gbfs_stations", title="Bike-share stations", group="Live",
    geometry_type="Point",
    properties=(Property("feed", "s.feed"), Property("station_id", "s.station_id"),
                Property("name", "s.name"), Property("capacity", "s.capacity", "integer"),
                Property("num_bikes_available", "s.num_bikes_available", "integer"),
                Property("num_docks_available", "s.num_docks_available", "integer"),
                Property("is_renting", "s.is_renting", "boolean"),
                Property("is_returning", "s.is_returning", "boolean"),
                Property("last_reported", "to_char(s.last_reported AT TIME ZONE 'UTC',"
                         " 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')")),
    from_sql="gbfs_stations s", key_sql="s.feed || ':' || s.station_id", geom_sql="s.geom",
    geom_3857_sql="s.geom_3857", zoom_sql="%(z)s >= 11", minzoom=11, simplify=False,
    cache=False,
    style=({"type": "circle", "paint": {
        "circle-radius": ["interpolate", ["linear"], ["zoom"], 11, 3, 17, 9],
        "circle-color": BIKES_COLOUR, "circle-stroke-color": "#fff",
        "circle-stroke-width": 1}},),
    legend=(("#d7191c", "no bikes"), ("#f28e2b", "1–3 bikes"), ("#1a9641", "more than 3"),
            ("#9e9e9e", "no status")),
    popup="gbfs_station",
    description="Stations of the bike-share feeds (GBFS) with their latest availability.")

GBFS_VEHICLES = Layer(
    id="gbfs_vehicles", title="Bike-share vehicles", group="Live", geometry_type="Point",
    properties=(Property("feed", "v.feed"), Property("vehicle_id", "v.vehicle_id"),
                Property("vehicle_type_id", "v.vehicle_type_id"),
                Property("form_factor", "v.form_factor"),
                Property("is_reserved", "v.is_reserved", "boolean"),
                Property("is_disabled", "v.is_disabled", "boolean"),
                Property("current_range_meters", "v.current_range_meters", "number")),
    from_sql="gbfs_vehicles v", where_sql="v.geom IS NOT NULL",
    key_sql="v.feed || ':' || v.vehicle_id", geom_sql="v.geom", geom_3857_sql="v.geom_3857",
    zoom_sql="%(z)s >= 12", minzoom=12, simplify=False, cache=False,
    style=({"type": "circle", "paint": {"circle-radius": 3.5, "circle-color": "#6a3d9a",
                                        "circle-stroke-color": "#fff",
                                        "circle-stroke-width": 1}},),
    legend=(("#6a3d9a", "free-floating vehicle"),), popup="gbfs_vehicle",
    description="Free-floating vehicles of the bike-share feeds (GBFS) not at a station.")

GBFS_ZONES = Layer(
    id="gbfs_zones", title="Bike-share zones", group="Live", geometry_type="Polygon",
    properties=(Property("feed", "z.feed"), Property("name", "z.name"),
                Property("rules", "z.rules::text")),
    from_sql="gbfs_zones z", key_sql="z.feed || ':' || z.zone_index", geom_sql="z.geom",
    geom_3857_sql="z.geom_3857", minzoom=9, cache=False,
    style=({"type": "fill", "paint": {"fill-color": "#6a3d9a", "fill-opacity": 0.12}},
           {"type": "line", "paint": {"line-color": "#6a3d9a", "line-width": 1}}),
    legend=(("#6a3d9a", "geofencing zone"),), popup="gbfs_zone",
    description="Geofencing zones of the bike-share feeds (GBFS) with their rules.")


def register_gbfs_layers(c: Catalog) -> None:
    for layer in (GBFS_STATIONS, GBFS_VEHICLES, GBFS_ZONES):
        c.register(layer)
