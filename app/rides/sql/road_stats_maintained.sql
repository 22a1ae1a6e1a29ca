-- Per way and direction from the maintained road_stats table (public rides, no filter);
-- bbox is a condition on r.geom or true.
SELECT s.way_id AS id, s.way_id, s.direction, r.name, r.highway, s.passes, s.events,
       s.distance_mean, s.distance_median, s.distance_min, s.distance_max, s.below_minimum,
       s.legal_minimum, ST_AsGeoJSON(r.geom, 6) AS geometry
FROM road_stats s JOIN osm_roads r ON r.osm_id = s.way_id
WHERE {bbox}
ORDER BY s.way_id, s.direction
LIMIT %(limit)s;
