-- the registry learns each device from its messages: the newest position and name win,
-- units are added to, first_seen stays
INSERT INTO sensor_devices AS d (device_id, name, kind, geom, units, first_seen, last_seen)
VALUES %s
ON CONFLICT (device_id) DO UPDATE SET
    name = coalesce(nullif(EXCLUDED.name, EXCLUDED.device_id), d.name),
    kind = CASE WHEN EXCLUDED.kind = 'sensor' THEN d.kind ELSE EXCLUDED.kind END,
    geom = coalesce(EXCLUDED.geom, d.geom),
    units = d.units || EXCLUDED.units,
    last_seen = greatest(d.last_seen, EXCLUDED.last_seen)
RETURNING device_id, name, kind, units, ST_X(geom) AS lon, ST_Y(geom) AS lat
