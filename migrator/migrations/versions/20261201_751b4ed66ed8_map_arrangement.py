"""map arrangement: the versions of the map's presentation that admins arrange

Each row is one whole arrangement (groups, layers, basemap; see
matching_and_import_db/arrangement/model.py) as admins saved or imported it, with who and
when and what it changed. The current arrangement is the newest version not undone; undo
marks it undone (who, when), so the one before it is current again and nothing is lost.

Revision ID: 751b4ed66ed8
Revises: 3f0fb6adda19
Create Date: 2026-12-01 13:30:00
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '751b4ed66ed8'
down_revision = '3f0fb6adda19'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "map_arrangement_versions",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("document", postgresql.JSONB(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("created_by", sa.Integer(),
                  sa.ForeignKey("users.id", ondelete="SET NULL")),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False,
                  server_default=sa.func.now()),
        sa.Column("undone_by", sa.Integer(),
                  sa.ForeignKey("users.id", ondelete="SET NULL")),
        sa.Column("undone_at", sa.DateTime(timezone=True)),
    )
    op.create_index("ix_map_arrangement_versions_current", "map_arrangement_versions",
                    ["id"], postgresql_where=sa.text("undone_at IS NULL"))


def downgrade():
    op.drop_table("map_arrangement_versions")
