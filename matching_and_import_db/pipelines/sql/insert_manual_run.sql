INSERT INTO pipeline_runs (pipeline_id, trigger, scheduled_for, requested_by, status,
                           counts, phase_seconds, log)
VALUES (%(pipeline_id)s, 'manual', now(), %(requested_by)s, 'queued', '{{}}', '{{}}', '[]')
RETURNING id;
