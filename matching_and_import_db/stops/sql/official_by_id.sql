-- Published official stops by id, with what a decision's evidence is made of.
SELECT stop_id, source, name, platform_code, operator, ST_X(geom) AS lon, ST_Y(geom) AS lat
FROM official_stops
WHERE stop_id = ANY(%(ids)s);
