-- Lock the ride row if this worker still holds it.
SELECT 1 FROM rides
WHERE id = %(ride_id)s AND worker = %(worker)s AND status = 'processing'
FOR UPDATE;
