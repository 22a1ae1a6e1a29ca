-- Queue rides for processing again; the condition is one of the fixed conditions of
-- tracks.store, never text from a caller outside the domain.
UPDATE tracks SET status = 'queued', status_message = NULL, attempts = 0,
                  lease_until = NULL, worker = NULL
WHERE {condition}
RETURNING id;
