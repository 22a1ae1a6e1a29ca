-- A station's availability since a time, with the last change before it as the start.
(SELECT recorded_at, num_bikes_available, num_docks_available, is_renting, is_returning
 FROM gbfs_station_history
 WHERE feed = %(feed)s AND station_id = %(station_id)s AND recorded_at < %(since)s
 ORDER BY recorded_at DESC LIMIT 1)
UNION ALL
(SELECT recorded_at, num_bikes_available, num_docks_available, is_renting, is_returning
 FROM gbfs_station_history
 WHERE feed = %(feed)s AND station_id = %(station_id)s AND recorded_at >= %(since)s
 ORDER BY recorded_at)
ORDER BY recorded_at
