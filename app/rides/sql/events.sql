-- Events of the rides a filter covers (where: rides.queries.Filter).
SELECT e.id, e.time, e.distance_left, e.distance_right, e.speed, e.way_id, e.direction,
       e.legal_minimum, e.distance_left < e.legal_minimum AS too_close,
       ST_AsGeoJSON(e.geom, 6) AS geometry
FROM ride_events e JOIN rides t ON t.id = e.ride_id
WHERE {where}
ORDER BY e.time
LIMIT %(limit)s;
