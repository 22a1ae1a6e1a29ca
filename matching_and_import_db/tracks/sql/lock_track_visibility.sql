-- A ride's visibility, its row locked until the caller's commit: two changes of it made
-- at once are applied one after the other.
SELECT public FROM tracks WHERE id = %(track_id)s FOR UPDATE
