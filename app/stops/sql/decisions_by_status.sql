SELECT status, count(*) AS n FROM stop_decisions GROUP BY 1 ORDER BY 1;
