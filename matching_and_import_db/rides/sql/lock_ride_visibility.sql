-- A ride's visibility, its row locked until the caller's commit: two changes of it made
-- at once are applied one after the other.
SELECT public FROM rides WHERE id = %(ride_id)s FOR UPDATE
