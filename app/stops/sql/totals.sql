-- Counts over the published stops; each condition is a bbox test or true.
SELECT
    (SELECT count(*) FROM official_stops o WHERE {o_where}) AS official_stops,
    (SELECT count(*) FROM stop_matches m WHERE {m_where}) AS matches,
    (SELECT count(DISTINCT m.official_id) FROM stop_matches m WHERE {m_where})
        AS matched_official_stops,
    (SELECT count(DISTINCT m.osm_key) FROM stop_matches m WHERE {m_where})
        AS matched_osm_stops;
