-- The newest run of every pipeline, failed ones first, then the most recent.
SELECT p.name AS pipeline, p.kind AS kind, r.id AS run_id, r.status AS status,
       r.trigger AS trigger, r.created_at AS created_at, r.finished_at AS finished_at,
       r.message AS message
FROM pipelines p
JOIN LATERAL (
    SELECT * FROM pipeline_runs pr WHERE pr.pipeline_id = p.id
    ORDER BY pr.created_at DESC, pr.id DESC LIMIT 1
) r ON true
ORDER BY (r.status = 'failed') DESC, r.created_at DESC
LIMIT %(limit)s
