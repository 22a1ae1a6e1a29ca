-- The same figures as road_stats, computed from the rides a filter covers
-- (where_events, where_usage: rides.queries.Filter); bbox is a condition on r.geom.
WITH ev AS (
    SELECT e.way_id, e.direction, e.distance_left AS d, e.legal_minimum
    FROM ride_events e JOIN rides t ON t.id = e.ride_id
    WHERE {where_events} AND e.way_id IS NOT NULL
), us AS (
    SELECT u.way_id, u.direction, count(*) AS passes
    FROM road_usage u JOIN rides t ON t.id = u.ride_id
    WHERE {where_usage} GROUP BY 1, 2
), st AS (
    SELECT way_id, direction, count(d) AS events, avg(d) AS distance_mean,
           percentile_cont(0.5) WITHIN GROUP (ORDER BY d) AS distance_median,
           min(d) AS distance_min, max(d) AS distance_max,
           count(*) FILTER (WHERE d < legal_minimum) AS below_minimum,
           max(legal_minimum) AS legal_minimum
    FROM ev GROUP BY 1, 2
)
SELECT r.osm_id AS id, r.osm_id AS way_id, k.direction, r.name, r.highway,
       coalesce(us.passes, 0) AS passes, coalesce(st.events, 0) AS events,
       st.distance_mean, st.distance_median, st.distance_min, st.distance_max,
       coalesce(st.below_minimum, 0) AS below_minimum, st.legal_minimum,
       ST_AsGeoJSON(r.geom, 6) AS geometry
FROM (SELECT way_id, direction FROM us UNION SELECT way_id, direction FROM st) k
JOIN osm_roads r ON r.osm_id = k.way_id
LEFT JOIN us ON us.way_id = k.way_id AND us.direction = k.direction
LEFT JOIN st ON st.way_id = k.way_id AND st.direction = k.direction
WHERE {bbox}
ORDER BY r.osm_id, k.direction
LIMIT %(limit)s;
