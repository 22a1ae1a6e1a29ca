-- Two statements, not one with data-modifying CTEs: those share a snapshot, so a new row
-- could meet the unique index before the old row with its key is deleted.
DELETE FROM stop_matches;
INSERT INTO stop_matches
    (official_id, osm_key, method, stage, score, distance_m, official_name, osm_name,
     evidence, profile_version, geom)
SELECT official_id, osm_key, method, stage, score, distance_m, official_name, osm_name,
       evidence, profile_version, geom
FROM {matches}
ORDER BY official_id, osm_key;
