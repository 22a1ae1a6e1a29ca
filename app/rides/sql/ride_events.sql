SELECT e.id, e.time, e.distance_left, e.distance_right, e.speed, e.way_id, e.direction,
       e.legal_minimum, ST_AsGeoJSON(e.geom, 6) AS geometry
FROM ride_events e JOIN rides t ON t.id = e.ride_id
WHERE e.ride_id = %(id)s AND (%(owner)s OR {published})
ORDER BY e.time;
