-- Where the problems a decision settles lie, for the map.
SELECT ST_X(geom), ST_Y(geom) FROM stop_problems
WHERE decision_id = %(decision_id)s AND geom IS NOT NULL
