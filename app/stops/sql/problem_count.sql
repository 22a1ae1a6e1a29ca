SELECT count(*)
FROM stop_problems p
LEFT JOIN official_stops o ON o.stop_id = p.official_id
LEFT JOIN osm_stops s ON s.osm_type = left(p.osm_key, 1)
                     AND s.osm_id = substr(p.osm_key, 2)::bigint
WHERE {where};
