-- MQTT messages the sensor subscribers refused, by reason (each is kept for operators).
SELECT reason, count(*) FROM sensor_invalid_messages GROUP BY reason ORDER BY reason
