SELECT vehicle_id FROM gbfs_vehicles WHERE feed = %(feed)s
