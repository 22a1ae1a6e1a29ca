-- Only the worker that holds the run writes its end.
UPDATE pipeline_runs
SET status = %(status)s, message = %(message)s, finished_at = now(), lease_until = NULL,
    counts = %(counts)s, phase_seconds = %(phase_seconds)s, log = %(log)s
WHERE id = %(run_id)s AND status = 'running' AND worker = %(worker)s;
