INSERT INTO sensor_measurements (device_id, measurement, measured_at, value)
SELECT device_id, measurement, measured_at, value FROM incoming_measurements
ON CONFLICT DO NOTHING;
INSERT INTO sensor_signals (device_id, received_at, gateway, rssi, snr)
SELECT device_id, received_at, gateway, rssi, snr FROM incoming_signals
ON CONFLICT DO NOTHING;
