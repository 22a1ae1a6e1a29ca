-- True before the first import: roads may then be copied straight into osm_roads.
SELECT NOT EXISTS (SELECT 1 FROM osm_roads);
