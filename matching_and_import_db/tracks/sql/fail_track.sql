-- Only while this worker still holds the ride.
UPDATE tracks SET status = 'error', status_message = %(message)s, lease_until = NULL,
                  processed_at = now()
WHERE id = %(track_id)s AND worker = %(worker)s AND status = 'processing';
