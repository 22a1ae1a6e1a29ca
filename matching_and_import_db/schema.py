"""Is the database schema at the migrations' head? Only the migrator changes it; the web app
and the scheduler check at start (and /readyz on every call) that it did.

Read from the migration scripts (alembic, without Flask) and a DB-API connection, so every
process checks the same way whether or not it builds the Flask app.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from alembic.config import Config
from alembic.script import ScriptDirectory

from matching_and_import_db.sqlfiles import load_sql

MIGRATIONS_DIR = Path(__file__).resolve().parents[1] / "migrator" / "migrations"


class SchemaBehind(RuntimeError):
    pass


@dataclass(frozen=True)
class SchemaStatus:
    current: frozenset[str]  # the revisions the database is at; empty: never migrated
    heads: frozenset[str]  # the revisions the code's migrations end in

    @property
    def at_head(self) -> bool:
        return self.current == self.heads


def migration_heads(directory: Path = MIGRATIONS_DIR) -> frozenset[str]:
    config = Config()
    config.set_main_option("script_location", str(directory))
    return frozenset(ScriptDirectory.from_config(config).get_heads())


def database_revisions(conn) -> frozenset[str]:
    with conn.cursor() as cur:
        cur.execute(load_sql("matching_and_import_db", "schema_is_migrated.sql"))
        if not cur.fetchone()[0]:
            return frozenset()
        cur.execute(load_sql("matching_and_import_db", "schema_revisions.sql"))
        return frozenset(row[0] for row in cur.fetchall())


def schema_status(conn) -> SchemaStatus:
    return SchemaStatus(current=database_revisions(conn), heads=migration_heads())


def require_current_schema(conn) -> None:
    status = schema_status(conn)
    if not status.at_head:
        raise SchemaBehind(
            f"database schema is at {sorted(status.current) or 'nothing'}, the code needs "
            f"{sorted(status.heads)}: run the migrator first (python -m migrator, or the "
            f"'migrate' role of entrypoint.sh)"
        )
