-- Grid cells with open problems, most first: the area filter's choices.
SELECT area, count(*) AS n FROM stop_problems WHERE decision_id IS NULL
GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 200;
