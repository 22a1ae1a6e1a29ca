SELECT m.official_id, m.osm_key, m.method, m.stage, m.score, m.distance_m,
       m.official_name, m.osm_name, m.profile_version,
       ST_X(ST_StartPoint(m.geom)) AS official_lon, ST_Y(ST_StartPoint(m.geom)) AS official_lat,
       ST_X(ST_EndPoint(m.geom)) AS osm_lon, ST_Y(ST_EndPoint(m.geom)) AS osm_lat,
       m.evidence
FROM stop_matches m
WHERE {where}
ORDER BY m.official_id, m.osm_key
LIMIT %(limit)s OFFSET %(offset)s;
