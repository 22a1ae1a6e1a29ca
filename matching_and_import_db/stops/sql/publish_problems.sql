DELETE FROM stop_problems;
INSERT INTO stop_problems (type, priority, official_id, osm_key, area, evidence, decision_id,
                           geom)
SELECT type, priority, official_id, osm_key, area, evidence, decision_id, geom
FROM {problems}
ORDER BY priority, type, official_id, osm_key;
