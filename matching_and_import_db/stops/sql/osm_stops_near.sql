-- The OSM stops within %(within_m)s metres of a staged official stop. Web mercator stretches
-- distances by 1/cos(latitude), so the radius is stretched as much; the join probes the
-- GiST index on osm_stops.geom_3857 once per official stop.
SELECT osm_type, osm_id, kind, name, ref, uic_ref, ref_ifopt, ref_sloid, local_ref, operator,
       tags, ST_X(geom) AS lon, ST_Y(geom) AS lat, stop_areas
FROM osm_stops
WHERE (osm_type, osm_id) IN (
    SELECT o.osm_type, o.osm_id
    FROM {official} s
    JOIN osm_stops o ON ST_DWithin(o.geom_3857, ST_Transform(s.geom, 3857),
                                   %(within_m)s / cos(radians(ST_Y(s.geom))))
)
ORDER BY osm_type, osm_id;
