-- A reviewer rejected the pair: it leaves the published matches at once.
DELETE FROM stop_matches WHERE official_id = %(official_id)s AND osm_key = %(osm_key)s
