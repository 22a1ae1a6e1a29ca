-- The roads a ride can have used: within the matching radius of its line. The line comes
-- in short pieces: one long line's bounding box would take in every road of the area it
-- spans, each then measured against the whole line; short pieces keep each probe of the
-- GiST index on geom_3857 tight. Web-mercator metres are stretched by 1/cos(latitude), so
-- the radius is stretched the same way.
WITH near AS MATERIALIZED (
    SELECT DISTINCT r.osm_id
    FROM unnest(%(pieces)s::bytea[]) AS p(wkb)
    JOIN osm_roads r
      ON ST_DWithin(r.geom_3857, ST_Transform(ST_GeomFromWKB(p.wkb, 4326), 3857),
                    %(radius_m)s / cos(radians(%(lat)s)))
)
SELECT r.osm_id, r.oneway, r.highway, r.zone_traffic, r.maxspeed,
       r.access::text AS access,  -- parsed with orjson: psycopg2's json.loads is 5x slower
       ST_AsBinary(r.geom) AS wkb
FROM near JOIN osm_roads r USING (osm_id)
WHERE r.highway <> ALL(%(excluded)s);
