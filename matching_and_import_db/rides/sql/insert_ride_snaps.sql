-- One row per ride: an array per field, given as PostgreSQL array literals.
INSERT INTO ride_snaps (ride_id, way_id, direction, offset_m, distance_m, lon, lat)
VALUES (%(ride_id)s, %(way_id)s::bigint[], %(direction)s::smallint[],
        %(offset_m)s::float8[], %(distance_m)s::float8[], %(lon)s::float8[],
        %(lat)s::float8[]);
