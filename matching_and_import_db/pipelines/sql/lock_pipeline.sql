-- Serialise run requests of one pipeline until the transaction ends.
SELECT pg_advisory_xact_lock(%(pipeline_id)s);
