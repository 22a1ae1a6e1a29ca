-- The roads a ride can have used: within the matching radius of its (simplified) line.
-- geom_3857 is indexed; web-mercator metres are stretched by 1/cos(latitude), so the
-- radius is stretched the same way.
SELECT osm_id, oneway, highway, zone_traffic, maxspeed, ST_AsBinary(geom)
FROM osm_roads
WHERE ST_DWithin(geom_3857,
                 ST_Transform(ST_GeomFromWKB(%(line)s, 4326), 3857),
                 %(radius_m)s / cos(radians(%(lat)s)))
  AND highway <> ALL(%(excluded)s);
