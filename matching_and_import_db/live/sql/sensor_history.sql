-- one device's measurements over a period, oldest first (one range of the primary key)
SELECT m.measurement, m.measured_at, m.value
FROM sensor_measurements m
WHERE m.device_id = %(device_id)s AND m.measured_at >= %(since)s
ORDER BY m.measurement, m.measured_at
