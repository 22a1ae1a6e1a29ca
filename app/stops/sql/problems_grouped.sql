SELECT p.type, p.priority, p.area, p.decision_id IS NULL AS open, count(*) AS n
FROM stop_problems p WHERE {where} GROUP BY 1, 2, 3, 4;
