UPDATE pipeline_runs SET phase = %(phase)s WHERE id = %(run_id)s;
