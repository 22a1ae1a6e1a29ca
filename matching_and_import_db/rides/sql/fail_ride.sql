-- Only while this worker still holds the ride.
UPDATE rides SET status = 'error', status_message = %(message)s, lease_until = NULL,
                  processed_at = now()
WHERE id = %(ride_id)s AND worker = %(worker)s AND status = 'processing';
