SELECT status, count(*) FROM rides GROUP BY status
