SELECT DISTINCT worker FROM pipeline_runs WHERE status = 'running' AND worker IS NOT NULL;
