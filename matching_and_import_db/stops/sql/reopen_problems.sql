-- The problems these decisions settled are open again (the decisions were superseded or
-- withdrawn); returns where each lies, for the map.
UPDATE stop_problems SET decision_id = NULL
WHERE decision_id = ANY(%(decision_ids)s)
RETURNING ST_X(geom), ST_Y(geom)
