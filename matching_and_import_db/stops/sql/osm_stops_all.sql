SELECT osm_type, osm_id, kind, name, ref, uic_ref, ref_ifopt, ref_sloid, local_ref, operator,
       tags, ST_X(geom) AS lon, ST_Y(geom) AS lat, stop_areas
FROM osm_stops
ORDER BY osm_type, osm_id;
