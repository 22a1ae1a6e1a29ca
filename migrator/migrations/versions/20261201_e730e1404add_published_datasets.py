"""published datasets: the schema their tables live in (datasets.<slug>) and the catalog
row of each, which the web processes register as a layer

Revision ID: e730e1404add
Revises: 7f3a9c2e4b18
Create Date: 2026-12-01 13:00:00
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = 'e730e1404add'
down_revision = '7f3a9c2e4b18'
branch_labels = None
depends_on = None


def upgrade():
    op.execute("CREATE SCHEMA IF NOT EXISTS datasets")
    op.create_table(
        'published_datasets',
        sa.Column('slug', sa.String(40), primary_key=True),
        sa.Column('pipeline', sa.String(100), nullable=True),
        sa.Column('run_id', sa.Integer(), nullable=True),
        sa.Column('title', sa.String(200), nullable=False),
        sa.Column('layer_group', sa.String(100), nullable=False),
        sa.Column('description', sa.Text(), nullable=True),
        sa.Column('colour', sa.String(7), nullable=False),
        sa.Column('geometry_type', sa.String(30), nullable=False),
        sa.Column('columns', postgresql.JSONB(), nullable=False),
        sa.Column('key_column', sa.String(60), nullable=True),
        sa.Column('source_srid', sa.Integer(), nullable=False),
        sa.Column('feature_count', sa.BigInteger(), nullable=False),
        sa.Column('bbox', postgresql.ARRAY(sa.Float()), nullable=True),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('published_at', sa.DateTime(timezone=True), nullable=False),
    )


def downgrade():
    op.drop_table('published_datasets')
    op.execute("DROP SCHEMA IF EXISTS datasets CASCADE")
