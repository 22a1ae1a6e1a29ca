DELETE FROM gbfs_stations WHERE feed = %(feed)s AND station_id = ANY(%(ids)s)
