-- A new dataset, on the first push into it (as Akvo made a tenant's database with its first
-- datapoint); nothing when a concurrent push made it first (then it is found again).
INSERT INTO workspace_datasets (workspace_id, slug, title)
VALUES (portal_workspace(), %(slug)s, %(slug)s)
ON CONFLICT (workspace_id, slug) DO NOTHING
RETURNING id
