-- History past the retention; the newest row of each station stays whatever its age, so
-- a chart always starts from the last known value.
DELETE FROM gbfs_station_history h
WHERE h.recorded_at < %(before)s
  AND EXISTS (SELECT 1 FROM gbfs_station_history n
              WHERE n.feed = h.feed AND n.station_id = h.station_id
                AND n.recorded_at > h.recorded_at)
