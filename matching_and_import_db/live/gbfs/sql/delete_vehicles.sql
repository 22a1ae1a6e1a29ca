DELETE FROM gbfs_vehicles WHERE feed = %(feed)s
