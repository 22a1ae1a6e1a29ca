-- The area the published OSM data covers: the convex hull of its stops and roads, widened by
-- %(margin_m)s metres. Web mercator stretches distances by 1/cos(latitude), so the margin is
-- stretched as much (as in osm_stops_near.sql). No row when nothing is published.
WITH hull AS (
    SELECT ST_ConvexHull(ST_Collect(geom)) AS g
    FROM (SELECT geom FROM osm_stops UNION ALL SELECT geom FROM osm_roads) AS osm
)
SELECT ST_AsBinary(ST_Transform(
           ST_Buffer(ST_Transform(g, 3857), %(margin_m)s / cos(radians(ST_Y(ST_Centroid(g))))),
           4326))
FROM hull
WHERE g IS NOT NULL;
