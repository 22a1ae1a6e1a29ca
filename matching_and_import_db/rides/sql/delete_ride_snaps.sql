DELETE FROM ride_snaps WHERE ride_id = %(ride_id)s;
