-- What waits: rides by status (queued / processing / error) and pipeline runs queued or running.
SELECT
    (SELECT count(*) FROM rides WHERE status = 'queued') AS rides_queued,
    (SELECT count(*) FROM rides WHERE status = 'processing') AS rides_processing,
    (SELECT count(*) FROM rides WHERE status = 'error') AS rides_error,
    (SELECT count(*) FROM pipeline_runs WHERE status = 'queued') AS runs_queued,
    (SELECT count(*) FROM pipeline_runs WHERE status = 'running') AS runs_running
