-- Events, passes and snaps go with the rides (their foreign keys cascade).
DELETE FROM tracks WHERE id = ANY(%(track_ids)s)
