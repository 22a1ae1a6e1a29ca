INSERT INTO gbfs_vehicles (feed, vehicle_id, vehicle_type_id, form_factor, is_reserved,
                           is_disabled, current_range_meters, station_id, geom)
VALUES %s
