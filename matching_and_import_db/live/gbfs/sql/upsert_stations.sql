INSERT INTO gbfs_stations (feed, station_id, name, capacity, num_bikes_available,
                           num_docks_available, is_renting, is_returning, last_reported, geom)
VALUES %s
ON CONFLICT (feed, station_id) DO UPDATE SET
  name = excluded.name, capacity = excluded.capacity,
  num_bikes_available = excluded.num_bikes_available,
  num_docks_available = excluded.num_docks_available, is_renting = excluded.is_renting,
  is_returning = excluded.is_returning, last_reported = excluded.last_reported,
  geom = excluded.geom
