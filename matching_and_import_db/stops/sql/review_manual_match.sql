-- A reviewer paired two stops by hand: the pair is published (replacing the import's
-- match of the same two stops, if any), drawn from the official to the OSM stop.
INSERT INTO stop_matches (official_id, osm_key, method, stage, score, distance_m,
                          official_name, osm_name, evidence, profile_version, geom)
VALUES (%(official_id)s, %(osm_key)s, 'manual', 'decision', 1.0, %(distance_m)s,
        %(official_name)s, %(osm_name)s, %(evidence)s, %(profile_version)s,
        ST_SetSRID(ST_MakeLine(ST_MakePoint(%(official_lon)s, %(official_lat)s),
                               ST_MakePoint(%(osm_lon)s, %(osm_lat)s)), 4326))
ON CONFLICT (official_id, osm_key) DO UPDATE SET
    method = EXCLUDED.method, stage = EXCLUDED.stage, score = EXCLUDED.score,
    distance_m = EXCLUDED.distance_m, official_name = EXCLUDED.official_name,
    osm_name = EXCLUDED.osm_name, evidence = EXCLUDED.evidence,
    profile_version = EXCLUDED.profile_version, geom = EXCLUDED.geom
