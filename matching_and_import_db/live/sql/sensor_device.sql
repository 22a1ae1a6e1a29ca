SELECT d.device_id, d.name, d.kind, d.units, ST_X(d.geom) AS lon, ST_Y(d.geom) AS lat,
       d.first_seen, d.last_seen
FROM sensor_devices d
WHERE d.device_id = %(device_id)s
