-- The lon/lat box of these rides (lines and events) and ways.
SELECT ST_XMin(b), ST_YMin(b), ST_XMax(b), ST_YMax(b)
FROM (SELECT ST_Extent(g) AS b
      FROM (SELECT geom AS g FROM rides WHERE id = ANY(%(ids)s)
            UNION ALL SELECT geom FROM ride_events WHERE ride_id = ANY(%(ids)s)
            UNION ALL SELECT geom FROM osm_roads WHERE osm_id = ANY(%(ways)s)) x) y;
