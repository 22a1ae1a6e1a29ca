-- one writer of the history at a time (a save and an undo never interleave)
SELECT pg_advisory_xact_lock(hashtext('map_arrangement_versions'))
