-- The unique index also refuses a registry that lists one stop twice, before publishing.
CREATE UNIQUE INDEX ON {official} (stop_id);
ANALYZE {official};
