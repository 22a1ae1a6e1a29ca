-- a message the broker delivers again (QoS 1 is at least once) writes nothing
INSERT INTO sensor_measurements (device_id, measurement, measured_at, value)
VALUES %s
ON CONFLICT DO NOTHING
