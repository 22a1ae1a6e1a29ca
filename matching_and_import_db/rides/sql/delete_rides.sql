-- Events, passes and snaps go with the rides (their foreign keys cascade).
DELETE FROM rides WHERE id = ANY(%(ride_ids)s)
