-- Has the migrator ever run here? (it made the alembic_version table, in the search path)
SELECT to_regclass('alembic_version') IS NOT NULL
