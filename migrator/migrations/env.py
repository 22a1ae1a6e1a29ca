"""Alembic environment, run by the migrator through flask-migrate.

geoalchemy2's helpers keep spatial indexes and PostGIS's own tables out of autogenerate.
"""

import logging

from alembic import context
from flask import current_app
from geoalchemy2 import alembic_helpers

logger = logging.getLogger("alembic.env")
config = context.config

db = current_app.extensions["migrate"].db
target_metadata = db.metadata

# tables that belong to PostGIS or to staging, never to our migrations
IGNORED_TABLES = {"spatial_ref_sys", "topology", "layer"}


def include_object(obj, name, type_, reflected, compare_to):
    if type_ == "table" and (name in IGNORED_TABLES or getattr(obj, "schema", None) == "staging"):
        return False
    return alembic_helpers.include_object(obj, name, type_, reflected, compare_to)


def run_migrations_offline():
    context.configure(url=str(db.engine.url), target_metadata=target_metadata, literal_binds=True,
                      include_object=include_object, render_item=alembic_helpers.render_item)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online():
    def process_revision_directives(context_, revision, directives):
        if getattr(config.cmd_opts, "autogenerate", False) and directives[0].upgrade_ops.is_empty():
            directives[:] = []
            logger.info("No changes in schema detected.")
        else:
            alembic_helpers.writer(context_, revision, directives)

    with db.engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            include_object=include_object,
            render_item=alembic_helpers.render_item,
            process_revision_directives=process_revision_directives,
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
