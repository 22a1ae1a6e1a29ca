-- Datapoints deleted by identifier; the count and extent of what went (tiles to invalidate).
WITH gone AS (
    DELETE FROM workspace_datapoints
    WHERE dataset_id = %(dataset_id)s AND identifier = ANY(%(identifiers)s)
    RETURNING geom
)
SELECT (SELECT count(*) FROM gone), ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e)
FROM (SELECT ST_Extent(geom) AS e FROM gone) x
