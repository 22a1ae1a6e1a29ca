SELECT station_id, name, ST_X(geom) AS lon, ST_Y(geom) AS lat, capacity,
       num_bikes_available, num_docks_available, is_renting, is_returning, last_reported
FROM gbfs_stations WHERE feed = %(feed)s
