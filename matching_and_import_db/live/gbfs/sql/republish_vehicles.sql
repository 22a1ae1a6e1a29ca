SELECT vehicle_id, ST_X(geom) AS lon, ST_Y(geom) AS lat, vehicle_type_id, form_factor,
       is_reserved, is_disabled, current_range_meters, station_id
FROM gbfs_vehicles WHERE feed = %(feed)s ORDER BY vehicle_id
