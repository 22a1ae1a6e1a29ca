"""official stops: whether a row is a stop place or a platform, and its mode of transport

Revision ID: c4e1a9d27b53
Revises: 5a7c0d1e2f30
Create Date: 2026-12-01 10:10:00
"""
from alembic import op
import sqlalchemy as sa

revision = 'c4e1a9d27b53'
down_revision = '5a7c0d1e2f30'
branch_labels = None
depends_on = None


def upgrade():
    # rows published before this revision came from platform-level readers
    op.add_column('official_stops', sa.Column('level', sa.String(length=10),
                                              server_default='platform', nullable=False))
    op.add_column('official_stops', sa.Column('mode', sa.String(length=20), nullable=True))
    op.create_check_constraint(op.f('ck_official_stops_level'), 'official_stops',
                               "level IN ('place', 'platform')")


def downgrade():
    op.drop_constraint(op.f('ck_official_stops_level'), 'official_stops', type_='check')
    op.drop_column('official_stops', 'mode')
    op.drop_column('official_stops', 'level')
