-- End the leases of rides held by these workers: the next claim takes them up at once.
UPDATE rides SET lease_until = now() - interval '1 second'
WHERE status = 'processing' AND worker = ANY(%(workers)s)
RETURNING id;
