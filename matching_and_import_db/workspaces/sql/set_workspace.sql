-- The workspace this transaction acts in: the row-level security policies read it.
-- is_local = true: it ends with the transaction (safe behind PgBouncer transaction pooling).
SELECT set_config('portal.workspace_id', %(workspace_id)s, true)
