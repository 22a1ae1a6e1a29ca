-- This transaction's statements end after a while (transaction-local: PgBouncer's
-- transaction pooling keeps it, and takes no `options` startup parameter).
SELECT set_config('statement_timeout', %(milliseconds)s, true)
