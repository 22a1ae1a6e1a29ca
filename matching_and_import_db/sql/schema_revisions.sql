-- The migrations the database is at (one row per head)
SELECT version_num FROM alembic_version
