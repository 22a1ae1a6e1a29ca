"""osm_stops.stop_areas: the stop_area relations each OSM stop belongs to

Revision ID: c4e1a9b27d53
Revises: c4e1a9d27b53 (branch registries' official_stop_level_mode)
Create Date: 2026-12-01 10:05:00
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = 'c4e1a9b27d53'
down_revision = 'c4e1a9d27b53'
branch_labels = None
depends_on = None


def upgrade():
    # existing rows get an empty list; the next OSM import fills it
    op.add_column('osm_stops', sa.Column('stop_areas', postgresql.ARRAY(sa.BigInteger()),
                                         server_default='{}', nullable=False))


def downgrade():
    op.drop_column('osm_stops', 'stop_areas')
