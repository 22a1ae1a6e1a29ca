-- Merge staging into the published registry: only rows that differ are written, and
-- readers see the old rows until the run's transaction commits.
WITH removed AS (
    DELETE FROM official_stops p
    WHERE NOT EXISTS (SELECT 1 FROM {official} s WHERE s.stop_id = p.stop_id)
    RETURNING 1
), upserted AS (
    INSERT INTO official_stops AS p
        (stop_id, source, name, platform_code, operator, valid_from, valid_to, sloid, ifopt,
         uic_ref, didok, gtfs_stop_id, atco_code, parent_id, extra, geom)
    SELECT stop_id, source, name, platform_code, operator, valid_from, valid_to, sloid, ifopt,
           uic_ref, didok, gtfs_stop_id, atco_code, parent_id, extra, geom
    FROM {official}
    ON CONFLICT (stop_id) DO UPDATE SET
        source = EXCLUDED.source, name = EXCLUDED.name,
        platform_code = EXCLUDED.platform_code, operator = EXCLUDED.operator,
        valid_from = EXCLUDED.valid_from, valid_to = EXCLUDED.valid_to,
        sloid = EXCLUDED.sloid, ifopt = EXCLUDED.ifopt, uic_ref = EXCLUDED.uic_ref,
        didok = EXCLUDED.didok, gtfs_stop_id = EXCLUDED.gtfs_stop_id,
        atco_code = EXCLUDED.atco_code, parent_id = EXCLUDED.parent_id,
        extra = EXCLUDED.extra, geom = EXCLUDED.geom
    WHERE (p.source, p.name, p.platform_code, p.operator, p.valid_from, p.valid_to, p.sloid,
           p.ifopt, p.uic_ref, p.didok, p.gtfs_stop_id, p.atco_code, p.parent_id, p.extra,
           p.geom)
          IS DISTINCT FROM
          (EXCLUDED.source, EXCLUDED.name, EXCLUDED.platform_code, EXCLUDED.operator,
           EXCLUDED.valid_from, EXCLUDED.valid_to, EXCLUDED.sloid, EXCLUDED.ifopt,
           EXCLUDED.uic_ref, EXCLUDED.didok, EXCLUDED.gtfs_stop_id, EXCLUDED.atco_code,
           EXCLUDED.parent_id, EXCLUDED.extra, EXCLUDED.geom)
    RETURNING (xmax = 0) AS inserted
)
SELECT
    (SELECT count(*) FROM upserted WHERE inserted) AS inserted,
    (SELECT count(*) FROM upserted WHERE NOT inserted) AS updated,
    (SELECT count(*) FROM removed) AS deleted;
