-- Queue rides for processing again; the condition is one of the fixed conditions of
-- rides.store, never text from a caller outside the domain.
UPDATE rides SET status = 'queued', status_message = NULL, attempts = 0,
                  lease_until = NULL, worker = NULL
WHERE {condition}
RETURNING id;
