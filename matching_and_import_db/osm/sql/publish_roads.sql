-- Merge staging into the published table: only rows that differ are written, so
-- importing the same file again writes nothing, and readers see the old rows until commit.
WITH removed AS (
    DELETE FROM osm_roads p
    WHERE NOT EXISTS (SELECT 1 FROM {roads} s WHERE s.osm_id = p.osm_id)
    RETURNING 1
), upserted AS (
    INSERT INTO osm_roads AS p
        (osm_id, highway, name, oneway, maxspeed, surface, zone_traffic, cycleway, access,
         geom)
    SELECT osm_id, highway, name, oneway, maxspeed, surface, zone_traffic, cycleway, access,
           ST_SetSRID(geom, 4326)
    FROM {roads}
    ON CONFLICT (osm_id) DO UPDATE SET
        highway = EXCLUDED.highway, name = EXCLUDED.name, oneway = EXCLUDED.oneway,
        maxspeed = EXCLUDED.maxspeed, surface = EXCLUDED.surface,
        zone_traffic = EXCLUDED.zone_traffic, cycleway = EXCLUDED.cycleway,
        access = EXCLUDED.access,
        geom = EXCLUDED.geom
    WHERE (p.highway, p.name, p.oneway, p.maxspeed, p.surface, p.zone_traffic, p.cycleway,
           p.access, p.geom)
          IS DISTINCT FROM
          (EXCLUDED.highway, EXCLUDED.name, EXCLUDED.oneway, EXCLUDED.maxspeed,
           EXCLUDED.surface, EXCLUDED.zone_traffic, EXCLUDED.cycleway, EXCLUDED.access,
           EXCLUDED.geom)
    RETURNING (xmax = 0) AS inserted
)
SELECT
    (SELECT count(*) FROM upserted WHERE inserted) AS inserted,
    (SELECT count(*) FROM upserted WHERE NOT inserted) AS updated,
    (SELECT count(*) FROM removed) AS deleted;
