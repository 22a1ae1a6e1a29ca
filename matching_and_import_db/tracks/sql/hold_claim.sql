-- Lock the ride row if this worker still holds it.
SELECT 1 FROM tracks
WHERE id = %(track_id)s AND worker = %(worker)s AND status = 'processing'
FOR UPDATE;
