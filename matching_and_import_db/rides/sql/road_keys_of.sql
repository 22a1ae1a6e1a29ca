-- The (way, direction) pairs whose statistics these rides contribute to.
SELECT way_id, direction FROM ride_events
WHERE ride_id = ANY(%(ids)s) AND way_id IS NOT NULL
UNION
SELECT way_id, direction FROM road_usage WHERE ride_id = ANY(%(ids)s);
