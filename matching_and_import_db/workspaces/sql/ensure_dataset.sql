-- The dataset of a workspace by its slug, created on the first push (as Akvo created a
-- tenant's database with its first datapoint).
WITH made AS (
    INSERT INTO workspace_datasets (workspace_id, slug, title)
    VALUES (portal_workspace(), %(slug)s, %(slug)s)
    ON CONFLICT (workspace_id, slug) DO NOTHING
    RETURNING id
)
SELECT id FROM made
UNION ALL
SELECT id FROM workspace_datasets WHERE slug = %(slug)s
LIMIT 1
