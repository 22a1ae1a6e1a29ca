DELETE FROM ride_events WHERE ride_id = %(ride_id)s;
DELETE FROM road_usage WHERE ride_id = %(ride_id)s;
