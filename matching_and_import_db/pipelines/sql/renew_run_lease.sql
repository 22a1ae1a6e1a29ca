UPDATE pipeline_runs SET lease_until = now() + make_interval(secs => %(lease_seconds)s)
WHERE id = %(run_id)s AND status = 'running';
