-- Published official stops by id, with what a decision's evidence is made of.
SELECT stop_id, source, name, platform_code, operator, ST_X(geom), ST_Y(geom)
FROM official_stops
WHERE stop_id = ANY(%(ids)s);
