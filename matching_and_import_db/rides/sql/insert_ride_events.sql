-- Rows by psycopg2.extras.execute_values, in the order of rides.store.EventRow.
INSERT INTO ride_events (ride_id, time, distance_left, distance_right, speed, way_id,
                          direction, legal_minimum, geom)
VALUES %s;
