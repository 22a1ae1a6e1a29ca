-- A dataset of the transaction's workspace by its slug.
SELECT id FROM workspace_datasets WHERE slug = %(slug)s
