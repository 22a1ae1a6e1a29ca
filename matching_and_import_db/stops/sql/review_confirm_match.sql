-- A reviewer confirmed the pair the import matched: it is now a decision's.
UPDATE stop_matches SET method = 'confirmed', stage = 'decision', score = 1.0
WHERE official_id = %(official_id)s AND osm_key = %(osm_key)s
