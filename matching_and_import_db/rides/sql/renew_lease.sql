UPDATE rides SET lease_until = now() + make_interval(secs => %(lease_seconds)s)
WHERE id = %(ride_id)s AND worker = %(worker)s AND status = 'processing';
