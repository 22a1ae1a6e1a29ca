"""The layers the portal publishes itself. Layers of later work (live stations, vehicles,
sensors, imported datasets) register the same way from their own package: add a
`register_*` call at the end of register_builtin."""

from __future__ import annotations

from matching_and_import_db import tilecache
from matching_and_import_db.layers.catalog import USER, Catalog, Layer, Property
from matching_and_import_db.layers.gbfs import register_gbfs_layers
from matching_and_import_db.layers.sensors import register_sensor_layers

# Zoom tiers of the road network: no multi-megabyte tiles at low zoom.
ROADS_BY_ZOOM = (
    "(%(z)s >= 14"
    " OR r.highway IN ('motorway', 'motorway_link', 'trunk', 'trunk_link')"
    " OR (%(z)s >= 10 AND r.highway IN ('primary', 'primary_link'))"
    " OR (%(z)s >= 12 AND r.highway IN ('secondary', 'secondary_link', 'tertiary',"
    " 'tertiary_link')))"
    # below z14, a way shorter than half a screen pixel cannot be seen: leave it out
    " AND (%(z)s >= 14 OR ST_Length(r.geom_3857) >= %(pixel)s)")

WIDTH = ["interpolate", ["linear"], ["zoom"], 10, 0.5, 16, 5]
PATHS = ["footway", "path", "pedestrian", "steps", "bridleway", "corridor", "track"]
IS_PATH = ["in", ["get", "highway"], ["literal", PATHS]]
ROAD_COLOUR = ["match", ["get", "highway"],
               ["motorway", "trunk", "motorway_link", "trunk_link"], "#e8925a",
               ["primary", "primary_link"], "#f2c45a",
               ["secondary", "secondary_link", "tertiary", "tertiary_link"], "#fff7d6",
               ["cycleway"], "#3b7dd8", "#ffffff"]
ROADS_STYLE = (
    {"type": "line", "filter": IS_PATH, "paint": {
        "line-color": "#b08968", "line-dasharray": [2, 1.5],
        "line-width": ["interpolate", ["linear"], ["zoom"], 13, 0.5, 17, 1.5]}},
    {"type": "line", "filter": ["!", IS_PATH], "layout": {"line-join": "round"},
     "paint": {"line-color": "#a8a195",
               "line-width": ["interpolate", ["linear"], ["zoom"], 10, 1, 16, 7]}},
    {"type": "line", "filter": ["!", IS_PATH], "layout": {"line-join": "round"},
     "paint": {"line-color": ROAD_COLOUR, "line-width": WIDTH}},
)

BELOW_SHARE_COLOUR = ["step", ["coalesce", ["get", "below_share"], -1],
                      "#9e9e9e", 0, "#1a9641", 0.1, "#a6d96a", 0.25, "#fdae61",
                      0.5, "#d7191c"]

ROADS = Layer(
    id="roads", title="Streets", group="Base map", geometry_type="LineString",
    depends_on=frozenset({tilecache.OSM}),
    properties=(Property("highway", "r.highway"), Property("name", "r.name"),
                Property("oneway", "r.oneway"), Property("maxspeed", "r.maxspeed"),
                Property("surface", "r.surface")),
    from_sql="osm_roads r", id_sql="r.osm_id", geom_sql="r.geom",
    geom_3857_sql="r.geom_3857", zoom_sql=ROADS_BY_ZOOM, minzoom=6,
    style=ROADS_STYLE,
    legend=(("#e8925a", "motorway, trunk"), ("#f2c45a", "primary"),
            ("#fff7d6", "secondary, tertiary"), ("#3b7dd8", "cycleway"),
            ("#b08968", "path")),
    description="OpenStreetMap ways travelled along (highway=*), from our own import.")

STOPS = Layer(
    id="stops", title="Stops (OpenStreetMap)", group="Public transport",
    depends_on=frozenset({tilecache.OSM}),
    geometry_type="Point",
    properties=(Property("id", "s.osm_type || s.osm_id"), Property("kind", "s.kind"),
                Property("name", "s.name"), Property("ref", "s.ref"),
                Property("operator", "s.operator")),
    from_sql="osm_stops s", key_sql="s.osm_type || s.osm_id", geom_sql="s.geom",
    geom_3857_sql="s.geom_3857", zoom_sql="%(z)s >= 13", minzoom=13, simplify=False,
    style=({"type": "circle", "paint": {
        "circle-radius": ["interpolate", ["linear"], ["zoom"], 13, 2.5, 17, 6],
        "circle-color": "#c0392b", "circle-stroke-color": "#fff",
        "circle-stroke-width": 1}},),
    legend=(("#c0392b", "OSM stop"),), popup="stop",
    description="Bus, tram and rail stops and platforms mapped in OpenStreetMap.")

# Road statistics: the maintained table (public rides) without filters; with a time range
# or "mine" the same figures from the rides in it.
ROAD_STATS_FROM = (
    "osm_roads r JOIN LATERAL (SELECT sum(st.passes) AS passes, sum(st.events) AS events,"
    " sum(st.below_minimum) AS below_minimum,"
    " sum(st.distance_mean * st.events) / nullif(sum(st.events), 0) AS distance_mean"
    " FROM road_stats st WHERE st.way_id = r.osm_id) s ON s.passes IS NOT NULL")
ROAD_STATS_FILTERED_FROM = (
    "osm_roads r JOIN (SELECT u.way_id, count(*) AS passes FROM road_usage u"
    " JOIN rides t ON t.id = u.ride_id WHERE {rides_u} GROUP BY u.way_id) p"
    " ON p.way_id = r.osm_id"
    " CROSS JOIN LATERAL (SELECT p.passes, count(e.id) AS events,"
    " count(e.id) FILTER (WHERE e.distance_left < e.legal_minimum) AS below_minimum,"
    " avg(e.distance_left) AS distance_mean FROM ride_events e"
    " JOIN rides t ON t.id = e.ride_id WHERE e.way_id = r.osm_id AND {rides_e}) s")

ROAD_STATS = Layer(
    id="road_stats", title="Roads: overtaking distances", group="Rides",
    depends_on=frozenset({tilecache.RIDES, tilecache.OSM}),
    geometry_type="LineString",
    properties=(Property("way_id", "r.osm_id", "integer"), Property("name", "r.name"),
                Property("passes", "s.passes::int", "integer"),
                Property("events", "s.events::int", "integer"),
                Property("below_minimum", "s.below_minimum::int", "integer"),
                Property("distance_mean", "round(s.distance_mean::numeric, 2)::float8",
                         "number"),
                Property("below_share", "round((s.below_minimum::float8"
                         " / nullif(s.events, 0))::numeric, 3)::float8", "number")),
    from_sql=ROAD_STATS_FROM, filtered_from_sql=ROAD_STATS_FILTERED_FROM,
    id_sql="r.osm_id", geom_sql="r.geom", geom_3857_sql="r.geom_3857", rides=True,
    style=({"type": "line", "paint": {
        "line-width": ["interpolate", ["linear"], ["zoom"], 10, 2, 16, 8],
        "line-color": BELOW_SHARE_COLOUR, "line-opacity": 0.85}},),
    legend=(("#1a9641", "under 10 % close passes"), ("#a6d96a", "10–25 %"),
            ("#fdae61", "25–50 %"), ("#d7191c", "50 % and more"),
            ("#9e9e9e", "passes, no events")),
    popup="road",
    description="Per road: passes, overtaking events and the share closer than the legal "
                "minimum, from public rides (or your own with 'my data').")

EVENTS = Layer(
    id="events", title="Overtaking events", group="Rides", geometry_type="Point",
    depends_on=frozenset({tilecache.RIDES}),
    properties=(Property("time", "to_char(e.time AT TIME ZONE 'UTC',"
                         " 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"),
                Property("distance_left", "round(e.distance_left::numeric, 2)::float8",
                         "number"),
                Property("distance_right", "round(e.distance_right::numeric, 2)::float8",
                         "number"),
                Property("speed", "round(e.speed::numeric, 1)::float8", "number"),
                Property("legal_minimum", "e.legal_minimum", "number"),
                Property("too_close", "e.distance_left < e.legal_minimum", "boolean"),
                Property("way_id", "e.way_id", "integer")),
    from_sql="ride_events e JOIN rides t ON t.id = e.ride_id", where_sql="{rides_e}",
    id_sql="e.id", geom_sql="e.geom", geom_3857_sql="e.geom_3857", zoom_sql="%(z)s >= 12",
    minzoom=12, datetime_sql="e.time", rides=True, simplify=False,
    style=({"type": "circle", "paint": {
        "circle-radius": ["interpolate", ["linear"], ["zoom"], 12, 2.5, 17, 7],
        "circle-color": ["case", ["get", "too_close"], "#d7191c", "#1a9641"],
        "circle-stroke-color": "#fff", "circle-stroke-width": 1}},),
    legend=(("#d7191c", "closer than the legal minimum"), ("#1a9641", "at or over it")),
    popup="event", description="Overtaking events of public rides (or your own).")

MY_RIDES = Layer(
    id="my_rides", title="My rides", group="Rides", geometry_type="MultiLineString",
    depends_on=frozenset({tilecache.RIDES}),
    properties=(Property("title", "t.title"),
                Property("recorded_at", "to_char(t.recorded_at AT TIME ZONE 'UTC',"
                         " 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"),
                Property("length_m", "round(t.length_m::numeric)::float8", "number"),
                Property("events", "t.events_count", "integer"),
                Property("public", "t.public", "boolean")),
    from_sql="rides t", where_sql="t.geom IS NOT NULL AND {rides_t}",
    id_sql="t.id", geom_sql="t.geom", geom_3857_sql="ST_Transform(t.geom, 3857)",
    datetime_sql="t.recorded_at", rides=True, access=USER,
    style=({"type": "line", "paint": {"line-color": "#6a3d9a", "line-width": 3,
                                      "line-opacity": 0.8}},),
    legend=(("#6a3d9a", "a ride of mine"),), popup="ride",
    description="Your own processed rides (only you see them).")


def register_builtin(c: Catalog) -> None:
    for layer in (ROADS, STOPS, ROAD_STATS, EVENTS, MY_RIDES):
        c.register(layer)
    # The official stops, matches and problems of the stops import register here once
    # their tables are published (app/models/stops.py): see register_stop_layers.
    register_stop_layers(c)
    register_gbfs_layers(c)  # the GBFS poller's tables
    register_sensor_layers(c)  # the sensor registry


# The stops import's tables are replaced in one transaction by its publish phase, and
# reviewers' decisions change them in place (matching_and_import_db.stops.review): both
# retire these layers' cached tiles after their commit, so they are cached like the others.
OFFICIAL_STOPS = Layer(
    id="official_stops", title="Stops (official registry)", group="Public transport",
    depends_on=frozenset({tilecache.STOPS}),
    geometry_type="Point",
    properties=(Property("stop_id", "o.stop_id"), Property("name", "o.name"),
                Property("platform_code", "o.platform_code"),
                Property("operator", "o.operator"), Property("source", "o.source"),
                Property("level", "o.level"), Property("mode", "o.mode")),
    from_sql="official_stops o", key_sql="o.stop_id", geom_sql="o.geom",
    geom_3857_sql="o.geom_3857", zoom_sql="%(z)s >= 13", minzoom=13, simplify=False,
    style=({"type": "circle", "paint": {
        # a stop place (a station, an ATLAS service point) drawn larger than a platform
        "circle-radius": ["interpolate", ["linear"], ["zoom"], 13,
                          ["match", ["get", "level"], "place", 4, 2], 17,
                          ["match", ["get", "level"], "place", 9, 5]],
        "circle-color": "#2c7fb8", "circle-stroke-color": "#fff",
        "circle-stroke-width": 1}},),
    legend=(("#2c7fb8", "official stop"),), popup="official_stop",
    description="Stops of the official registry the stops import published.")

STOP_MATCHES = Layer(
    id="stop_matches", title="Stop matches", group="Public transport",
    depends_on=frozenset({tilecache.STOPS}),
    geometry_type="LineString",
    properties=(Property("official_id", "m.official_id"), Property("osm_key", "m.osm_key"),
                Property("method", "m.method"), Property("stage", "m.stage"),
                Property("score", "round(m.score::numeric, 3)::float8", "number"),
                Property("distance_m", "round(m.distance_m::numeric, 1)::float8", "number"),
                Property("official_name", "m.official_name"),
                Property("osm_name", "m.osm_name")),
    from_sql="stop_matches m", key_sql="m.official_id || '~' || m.osm_key",
    geom_sql="m.geom", geom_3857_sql="ST_Transform(m.geom, 3857)",
    where_sql="m.geom && ST_Transform({env}, 4326)", zoom_sql="%(z)s >= 14", minzoom=14,
    simplify=False,
    style=({"type": "line", "paint": {"line-color": "#41ab5d", "line-width": 2,
                                      "line-dasharray": [2, 1]}},),
    legend=(("#41ab5d", "official stop ↔ OSM stop"),), popup="match",
    description="Which OSM stop each official stop was matched to, and how.")

STOP_PROBLEMS = Layer(
    id="stop_problems", title="Stop problems", group="Public transport",
    depends_on=frozenset({tilecache.STOPS}),
    geometry_type="Point",
    properties=(Property("type", "sp.type"), Property("priority", "sp.priority", "integer"),
                Property("official_id", "sp.official_id"),
                Property("osm_key", "sp.osm_key"), Property("area", "sp.area"),
                Property("resolved", "sp.decision_id IS NOT NULL", "boolean")),
    from_sql="stop_problems sp", id_sql="sp.id", geom_sql="sp.geom",
    geom_3857_sql="sp.geom_3857", zoom_sql="%(z)s >= 12", minzoom=12, simplify=False,
    style=({"type": "circle", "paint": {
        "circle-radius": 6, "circle-color": "rgba(0,0,0,0)",
        "circle-stroke-color": "#e6550d", "circle-stroke-width": 2.5}},),
    legend=(("#e6550d", "a stop problem to review"),), popup="problem",
    description="What the stops import found wrong: unmatched, too far, attribute "
                "mismatches.")


def register_stop_layers(c: Catalog) -> None:
    """The stops import's layers (app/models/stops.py)."""
    for layer in (OFFICIAL_STOPS, STOP_MATCHES, STOP_PROBLEMS):
        c.register(layer)
