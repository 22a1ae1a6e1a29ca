-- The workers holding a ride under a lease that has not run out.
SELECT DISTINCT worker FROM rides
WHERE status = 'processing' AND lease_until >= now() AND worker IS NOT NULL;
