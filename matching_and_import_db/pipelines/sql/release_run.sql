-- Put a claimed run back in the queue (its pipeline's lock was not to be had).
UPDATE pipeline_runs SET status = 'queued', started_at = NULL, worker = NULL,
                         lease_until = NULL
WHERE id = %(run_id)s AND status = 'running';
