-- Roads and stops of one tile as a two-layer MVT. The envelope gets a margin so lines
-- crossing the edge are clipped outside the visible area; minor roads and stops only
-- appear from the zoom where they are readable.
WITH bounds AS (
    SELECT ST_TileEnvelope(%(z)s, %(x)s, %(y)s) AS env,
           ST_TileEnvelope(%(z)s, %(x)s, %(y)s, margin => 64.0 / 4096) AS env_margin
), roads AS (
    SELECT ST_AsMVTGeom(ST_Simplify(r.geom_3857, %(tolerance)s), b.env, 4096, 64, true) AS geom,
           r.osm_id, r.highway, r.name
    FROM osm_roads r, bounds b
    WHERE r.geom_3857 && b.env_margin
      AND (%(z)s >= 14 OR r.highway = ANY(%(major)s))
), stops AS (
    SELECT ST_AsMVTGeom(s.geom_3857, b.env, 4096, 64, true) AS geom,
           s.osm_type || s.osm_id AS id, s.kind, s.name, s.ref
    FROM osm_stops s, bounds b
    WHERE s.geom_3857 && b.env_margin AND %(z)s >= 13
)
SELECT (SELECT coalesce(ST_AsMVT(roads, 'roads', 4096, 'geom', 'osm_id'), '') FROM roads
        WHERE geom IS NOT NULL)
    || (SELECT coalesce(ST_AsMVT(stops, 'stops', 4096, 'geom'), '') FROM stops
        WHERE geom IS NOT NULL);
