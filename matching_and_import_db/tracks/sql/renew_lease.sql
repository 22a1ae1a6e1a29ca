UPDATE tracks SET lease_until = now() + make_interval(secs => %(lease_seconds)s)
WHERE id = %(track_id)s AND worker = %(worker)s AND status = 'processing';
