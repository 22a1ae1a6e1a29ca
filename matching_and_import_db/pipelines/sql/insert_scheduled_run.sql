-- A queued scheduled run not yet started absorbs later slots (coalescing); the unique
-- index on (pipeline, slot) makes a slot at most one run whatever the number of processes.
INSERT INTO pipeline_runs (pipeline_id, trigger, scheduled_for, status, counts,
                           phase_seconds, log)
SELECT %(pipeline_id)s, 'schedule', %(slot)s, 'queued', '{{}}', '{{}}', '[]'
WHERE NOT EXISTS (SELECT 1 FROM pipeline_runs
                  WHERE pipeline_id = %(pipeline_id)s AND trigger = 'schedule'
                    AND status = 'queued')
ON CONFLICT DO NOTHING
RETURNING id;
