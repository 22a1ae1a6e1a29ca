-- Every decision that may apply; superseded and withdrawn ones are history.
SELECT id, action, official_id, osm_key, attribute, note, evidence, evidence_hash, status,
       updated_at
FROM stop_decisions
WHERE status IN ('active', 'needs_review')
ORDER BY updated_at, id;
