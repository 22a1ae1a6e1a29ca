-- Merge staging into the published registry: only rows that differ are written, and
-- readers see the old rows until the run's transaction commits. The column lists are
-- stops.columns.OFFICIAL_COLUMNS.
WITH removed AS (
    DELETE FROM official_stops p
    WHERE NOT EXISTS (SELECT 1 FROM {official} s WHERE s.stop_id = p.stop_id)
    RETURNING 1
), upserted AS (
    INSERT INTO official_stops AS p ({official_columns})
    SELECT {official_columns}
    FROM {official}
    ON CONFLICT (stop_id) DO UPDATE SET {official_updates}
    WHERE ({published_values}) IS DISTINCT FROM ({excluded_values})
    RETURNING (xmax = 0) AS inserted
)
SELECT
    (SELECT count(*) FROM upserted WHERE inserted) AS inserted,
    (SELECT count(*) FROM upserted WHERE NOT inserted) AS updated,
    (SELECT count(*) FROM removed) AS deleted;
