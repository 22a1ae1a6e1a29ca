-- requeue_rides.sql's condition when a privacy zone is removed: rides that had points
-- hidden by a zone, or that failed (perhaps for lying wholly inside one).
user_id = %(uid)s AND (status IN ('processing', 'error')
                       OR (status = 'complete' AND points_private > 0))
