-- Ride results of one tile (rounded numbers go out as float8: numeric would become text): roads with their overtaking statistics (both directions
-- together; the road panel splits them) and the events of public rides.
WITH bounds AS (
    SELECT ST_TileEnvelope(%(z)s, %(x)s, %(y)s) AS env,
           ST_TileEnvelope(%(z)s, %(x)s, %(y)s, margin => 64.0 / 4096) AS env_margin
), roads AS (
    SELECT ST_AsMVTGeom(ST_Simplify(r.geom_3857, %(tolerance)s), b.env, 4096, 64, true) AS geom,
           r.osm_id AS way_id, r.name, sum(s.passes) AS passes, sum(s.events) AS events,
           sum(s.below_minimum) AS below_minimum,
           round((sum(s.distance_mean * s.events) / nullif(sum(s.events), 0))::numeric, 2)
               ::float8 AS distance_mean,
           round((sum(s.below_minimum)::float / nullif(sum(s.events), 0))::numeric, 3)
               ::float8 AS below_share
    FROM osm_roads r JOIN road_stats s ON s.way_id = r.osm_id, bounds b
    WHERE r.geom_3857 && b.env_margin
    GROUP BY r.osm_id, r.name, r.geom_3857, b.env
), events AS (
    SELECT ST_AsMVTGeom(e.geom_3857, b.env, 4096, 64, true) AS geom, e.id,
           round(e.distance_left::numeric, 2)::float8 AS distance_left, e.legal_minimum,
           e.distance_left < e.legal_minimum AS too_close, e.way_id
    FROM track_events e JOIN tracks t ON t.id = e.track_id, bounds b
    WHERE e.geom_3857 && b.env_margin AND t.public AND t.status = 'complete'
      AND %(z)s >= 12
)
SELECT (SELECT coalesce(ST_AsMVT(roads, 'road_stats', 4096, 'geom', 'way_id'), '') FROM roads
        WHERE geom IS NOT NULL)
    || (SELECT coalesce(ST_AsMVT(events, 'events', 4096, 'geom', 'id'), '') FROM events
        WHERE geom IS NOT NULL);
