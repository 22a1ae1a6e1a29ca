SELECT m.method AS k, count(*) AS n FROM stop_matches m WHERE {where} GROUP BY 1 ORDER BY 1;
