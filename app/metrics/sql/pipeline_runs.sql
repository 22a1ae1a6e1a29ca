SELECT p.kind, r.status, count(*),
       coalesce(sum(extract(epoch FROM r.finished_at - r.started_at)), 0)::float8
FROM pipeline_runs r JOIN pipelines p ON p.id = r.pipeline_id
WHERE r.status IN ('succeeded', 'failed')
GROUP BY p.kind, r.status
