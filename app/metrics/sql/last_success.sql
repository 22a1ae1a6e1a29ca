SELECT p.name, extract(epoch FROM now() - max(r.finished_at))::float8
FROM pipeline_runs r JOIN pipelines p ON p.id = r.pipeline_id
WHERE r.status = 'succeeded'
GROUP BY p.name
