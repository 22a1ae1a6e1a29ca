-- Fail the runs whose worker stopped renewing the lease or whose process is gone,
-- naming the phase they were in.
UPDATE pipeline_runs r
SET status = 'failed', finished_at = now(),
    message = 'abandoned: the worker ' || coalesce(worker, '?')
              || ' stopped during phase ' || coalesce(phase, '?')
              || CASE WHEN r.worker = ANY(%(dead)s) THEN ' (its process is gone)'
                      ELSE ' (lease expired)' END
              || '; the published data was not changed by this run'
FROM pipelines p
WHERE p.id = r.pipeline_id AND r.status = 'running'
  AND (r.lease_until < now() OR r.worker = ANY(%(dead)s))
RETURNING r.id, p.name;
