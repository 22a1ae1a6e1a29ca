SELECT way_id, direction, offset_m, distance_m, lon, lat FROM ride_snaps
WHERE ride_id = %(id)s;
