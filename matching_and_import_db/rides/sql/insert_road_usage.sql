-- Rows by psycopg2.extras.execute_values, in the order of rides.store.PassRow.
INSERT INTO road_usage (ride_id, seq, way_id, direction, time, length_m) VALUES %s;
