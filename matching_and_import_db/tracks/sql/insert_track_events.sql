-- Rows by psycopg2.extras.execute_values, in the order of tracks.store.EventRow.
INSERT INTO track_events (track_id, time, distance_left, distance_right, speed, way_id,
                          direction, legal_minimum, geom)
VALUES %s;
