INSERT INTO sensor_invalid_messages (topic, reason, payload)
VALUES %s
