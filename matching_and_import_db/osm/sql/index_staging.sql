-- The unique indexes also refuse a file that holds one object twice, before publishing.
-- ANALYZE only the key columns: statistics on the geometry cost ten times more and the
-- merge does not need them.
CREATE UNIQUE INDEX ON {roads} (osm_id);
CREATE UNIQUE INDEX ON {stops} (osm_type, osm_id);
ANALYZE {roads} (osm_id);
ANALYZE {stops} (osm_type, osm_id);
CREATE INDEX ON {stop_areas} (osm_type, osm_id);
