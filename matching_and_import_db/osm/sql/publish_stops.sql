-- Same merge as for roads. Platforms mapped as ways become the point of the way
-- nearest to its centroid, which always lies on the platform itself. stop_areas lists the
-- stop_area relations a stop is a member of.
WITH removed AS (
    DELETE FROM osm_stops p
    WHERE NOT EXISTS (
        SELECT 1 FROM {stops} s WHERE s.osm_type = p.osm_type AND s.osm_id = p.osm_id)
    RETURNING 1
), upserted AS (
    INSERT INTO osm_stops AS p
        (osm_type, osm_id, kind, name, ref, uic_ref, ref_ifopt, ref_sloid, local_ref,
         operator, tags, stop_areas, geom)
    SELECT osm_type, osm_id, kind, name, ref, uic_ref, ref_ifopt, ref_sloid, local_ref,
           operator, tags,
           COALESCE((SELECT array_agg(DISTINCT a.relation_id ORDER BY a.relation_id)
                     FROM {stop_areas} a
                     WHERE a.osm_type = s.osm_type AND a.osm_id = s.osm_id), '{{}}'),
           ST_SetSRID(CASE WHEN osm_type = 'n' THEN geom
                           ELSE ST_ClosestPoint(geom, ST_Centroid(geom)) END, 4326)
    FROM {stops} s
    ON CONFLICT (osm_type, osm_id) DO UPDATE SET
        kind = EXCLUDED.kind, name = EXCLUDED.name, ref = EXCLUDED.ref,
        uic_ref = EXCLUDED.uic_ref, ref_ifopt = EXCLUDED.ref_ifopt,
        ref_sloid = EXCLUDED.ref_sloid, local_ref = EXCLUDED.local_ref,
        operator = EXCLUDED.operator, tags = EXCLUDED.tags,
        stop_areas = EXCLUDED.stop_areas, geom = EXCLUDED.geom
    WHERE (p.kind, p.name, p.ref, p.uic_ref, p.ref_ifopt, p.ref_sloid, p.local_ref,
           p.operator, p.tags, p.stop_areas, p.geom)
          IS DISTINCT FROM
          (EXCLUDED.kind, EXCLUDED.name, EXCLUDED.ref, EXCLUDED.uic_ref, EXCLUDED.ref_ifopt,
           EXCLUDED.ref_sloid, EXCLUDED.local_ref, EXCLUDED.operator, EXCLUDED.tags,
           EXCLUDED.stop_areas, EXCLUDED.geom)
    RETURNING (xmax = 0) AS inserted
)
SELECT
    (SELECT count(*) FROM upserted WHERE inserted) AS inserted,
    (SELECT count(*) FROM upserted WHERE NOT inserted) AS updated,
    (SELECT count(*) FROM removed) AS deleted;
