CREATE UNIQUE INDEX ON {roads} (osm_id);
CREATE UNIQUE INDEX ON {stops} (osm_type, osm_id);
ANALYZE {roads};
ANALYZE {stops};
