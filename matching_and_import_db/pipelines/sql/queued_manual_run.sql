SELECT id FROM pipeline_runs
WHERE pipeline_id = %(pipeline_id)s AND status = 'queued' AND trigger = 'manual';
