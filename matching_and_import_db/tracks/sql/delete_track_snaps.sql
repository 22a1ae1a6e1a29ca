DELETE FROM track_snaps WHERE track_id = %(track_id)s;
