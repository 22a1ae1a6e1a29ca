INSERT INTO gbfs_station_history (feed, station_id, recorded_at, num_bikes_available,
                                  num_docks_available, is_renting, is_returning)
VALUES %s
