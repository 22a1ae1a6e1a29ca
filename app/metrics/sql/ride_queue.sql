SELECT status, count(*) FROM tracks GROUP BY status
