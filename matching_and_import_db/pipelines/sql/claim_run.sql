-- The oldest queued run of a pipeline with no run running; SKIP LOCKED: two workers never
-- take the same run, and never wait for each other.
UPDATE pipeline_runs r
SET status = 'running', started_at = now(), worker = %(worker)s,
    lease_until = now() + make_interval(secs => %(lease_seconds)s)
FROM pipelines p
WHERE p.id = r.pipeline_id AND r.id = (
    SELECT q.id FROM pipeline_runs q
    WHERE q.status = 'queued' AND NOT EXISTS (
        SELECT 1 FROM pipeline_runs x
        WHERE x.pipeline_id = q.pipeline_id AND x.status = 'running')
    ORDER BY q.scheduled_for, q.id
    LIMIT 1
    FOR UPDATE OF q SKIP LOCKED)
RETURNING r.id AS run_id, p.id AS pipeline_id, p.name AS pipeline, p.kind, p.config;
