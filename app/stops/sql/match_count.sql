SELECT count(*) FROM stop_matches m WHERE {where};
