-- The first feature whose reprojected coordinates are not longitude/latitude.
SELECT fid FROM {staging}
WHERE ST_XMin(geom) < -180 OR ST_XMax(geom) > 180 OR ST_YMin(geom) < -90 OR ST_YMax(geom) > 90
ORDER BY fid LIMIT 1
