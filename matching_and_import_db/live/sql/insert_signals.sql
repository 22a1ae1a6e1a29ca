INSERT INTO sensor_signals (device_id, received_at, gateway, rssi, snr)
VALUES %s
ON CONFLICT DO NOTHING
