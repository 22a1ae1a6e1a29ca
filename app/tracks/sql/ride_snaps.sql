SELECT way_id, direction, offset_m, distance_m, lon, lat FROM track_snaps
WHERE track_id = %(id)s;
