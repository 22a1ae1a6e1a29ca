DELETE FROM track_events WHERE track_id = %(track_id)s;
DELETE FROM road_usage WHERE track_id = %(track_id)s;
