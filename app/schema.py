"""Is the database schema at the migrations' head? Only the migrator changes it."""

from __future__ import annotations

from alembic.config import Config
from alembic.script import ScriptDirectory
from flask import current_app
from sqlalchemy import text
from sqlalchemy.exc import ProgrammingError

from app.extensions import db


class SchemaBehind(RuntimeError):
    pass


def migration_heads() -> set[str]:
    config = Config()
    config.set_main_option("script_location", current_app.extensions["migrate"].directory)
    return set(ScriptDirectory.from_config(config).get_heads())


def database_revisions() -> set[str]:
    try:
        with db.engine.connect() as conn:
            return {r[0] for r in conn.execute(text("SELECT version_num FROM alembic_version"))}
    except ProgrammingError:  # no alembic_version table: never migrated
        return set()


def schema_status() -> tuple[bool, set[str], set[str]]:
    heads, current = migration_heads(), database_revisions()
    return heads == current, current, heads


def require_current_schema() -> None:
    ok, current, heads = schema_status()
    if not ok:
        raise SchemaBehind(
            f"database schema is at {sorted(current) or 'nothing'}, the code needs "
            f"{sorted(heads)}: run the migrator first (python -m migrator, or the "
            f"'migrate' role of entrypoint.sh)"
        )
