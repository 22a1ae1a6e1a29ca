-- A batch of datapoints (one JSON array) upserted by identifier: a row changes only when
-- the pushed modification time is newer, so pushing the same batch again changes nothing.
-- Returns how many rows changed and the extent of their old and new positions (the tiles
-- to invalidate). Every part of one statement reads the same snapshot, so the table joined
-- below still holds the updated rows' old positions; it is reached from the updated rows
-- by primary key, one lookup per updated row (never a scan: a dataset may hold millions).
-- A row the statement inserted has no old position: its version's xmax is 0 (an updated
-- one's is this transaction, which locked the old version), so new rows cost no lookup.
WITH items AS (
    SELECT * FROM jsonb_to_recordset(%(items)s::jsonb) AS i(
        identifier text, name text, survey_id text, form_id text, created_at timestamptz,
        modified_at timestamptz, properties jsonb, longitude float8, latitude float8)
), changed AS (
    INSERT INTO workspace_datapoints AS d (workspace_id, dataset_id, identifier, name,
        survey_id, form_id, created_at, modified_at, properties, geom)
    SELECT portal_workspace(), %(dataset_id)s, identifier, name, survey_id, form_id,
           created_at, modified_at, coalesce(properties, '{{}}'),
           ST_SetSRID(ST_MakePoint(longitude, latitude), 4326)
    FROM items
    ON CONFLICT (dataset_id, identifier) DO UPDATE SET
        name = EXCLUDED.name, survey_id = EXCLUDED.survey_id, form_id = EXCLUDED.form_id,
        created_at = EXCLUDED.created_at, modified_at = EXCLUDED.modified_at,
        properties = EXCLUDED.properties, geom = EXCLUDED.geom, received_at = now()
    WHERE d.modified_at < EXCLUDED.modified_at
    RETURNING d.identifier, d.geom, d.xmax = 0 AS inserted
), moved AS (
    SELECT geom FROM changed
    UNION ALL
    SELECT (SELECT old.geom FROM workspace_datapoints old
            WHERE old.dataset_id = %(dataset_id)s AND old.identifier = c.identifier)
    FROM changed c
    WHERE NOT c.inserted
)
SELECT (SELECT count(*) FROM changed), ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e)
FROM (SELECT ST_Extent(geom) AS e FROM moved) x
