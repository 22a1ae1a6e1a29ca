-- Link the problems that the given decisions settle to them. Used on a run's staged
-- problems before publishing, and on the published problems when a decision is recorded.
UPDATE {problems} p SET decision_id = d.id
FROM stop_decisions d
WHERE d.id = ANY(%(decision_ids)s) AND p.decision_id IS NULL AND (
       (d.action IN ('confirm', 'manual', 'reject') AND p.type = 'too_far'
        AND p.official_id = d.official_id AND p.osm_key = d.osm_key)
    OR (d.action = 'reject' AND p.type = 'attribute_mismatch'
        AND p.official_id = d.official_id AND p.osm_key = d.osm_key)
    OR (d.action = 'attribute' AND p.type = 'attribute_mismatch'
        AND p.official_id = d.official_id AND p.osm_key = d.osm_key
        AND p.evidence ->> 'attribute' = d.attribute)
    OR (d.action IN ('manual', 'missing_in_osm') AND p.type = 'unmatched_official'
        AND p.official_id = d.official_id)
    OR (d.action IN ('manual', 'missing_in_registry') AND p.type = 'unmatched_osm'
        AND p.osm_key = d.osm_key)
);
