SELECT ST_X(center) AS lon, ST_Y(center) AS lat, radius_m
FROM privacy_zones WHERE user_id = %(user_id)s ORDER BY id;
