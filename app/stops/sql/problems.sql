SELECT p.id, p.type, p.priority, p.official_id, p.osm_key, p.area,
       ST_X(p.geom) AS lon, ST_Y(p.geom) AS lat, p.decision_id, d.action AS decision_action,
       o.name AS official_name, o.platform_code AS official_platform,
       o.level AS official_level, o.mode AS official_mode,
       ST_X(o.geom) AS official_lon, ST_Y(o.geom) AS official_lat,
       s.name AS osm_name, s.kind AS osm_kind, coalesce(s.local_ref, s.ref) AS osm_platform,
       ST_X(s.geom) AS osm_lon, ST_Y(s.geom) AS osm_lat,
       p.evidence
FROM stop_problems p
LEFT JOIN official_stops o ON o.stop_id = p.official_id
LEFT JOIN osm_stops s ON s.osm_type = left(p.osm_key, 1)
                     AND s.osm_id = substr(p.osm_key, 2)::bigint
LEFT JOIN stop_decisions d ON d.id = p.decision_id
WHERE {where}
ORDER BY p.priority, p.type, p.id
LIMIT %(limit)s OFFSET %(offset)s;
