-- Enabled pipelines with a schedule, and the slot of their last scheduled run.
SELECT p.id, p.schedule, p.created_at,
       (SELECT max(scheduled_for) FROM pipeline_runs r
        WHERE r.pipeline_id = p.id AND r.trigger = 'schedule') AS last_slot
FROM pipelines p
WHERE p.enabled AND p.schedule IS NOT NULL;
