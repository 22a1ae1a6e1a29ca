-- Seconds per phase of the pipeline's last successful runs.
SELECT phase_seconds FROM pipeline_runs
WHERE pipeline_id = %(pipeline_id)s AND status = 'succeeded'
ORDER BY finished_at DESC
LIMIT %(runs)s;
