"""snapping: who may ride where on each road (access tags), and the snap of every fix

Revision ID: 9c4e2b7d1a05
Revises: c4e1a9b27d53
Create Date: 2026-12-01 10:00:00
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '9c4e2b7d1a05'
down_revision = 'c4e1a9b27d53'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('osm_roads', sa.Column(
        'access', postgresql.JSONB(astext_type=sa.Text()), nullable=False,
        server_default=sa.text("'{}'::jsonb")))
    op.create_table(
        'track_snaps',
        sa.Column('track_id', sa.Integer(), nullable=False),
        sa.Column('way_id', postgresql.ARRAY(sa.BigInteger()), nullable=False),
        sa.Column('direction', postgresql.ARRAY(sa.SmallInteger()), nullable=False),
        sa.Column('offset_m', postgresql.ARRAY(sa.Float()), nullable=False),
        sa.Column('distance_m', postgresql.ARRAY(sa.Float()), nullable=False),
        sa.Column('lon', postgresql.ARRAY(sa.Float()), nullable=False),
        sa.Column('lat', postgresql.ARRAY(sa.Float()), nullable=False),
        sa.ForeignKeyConstraint(['track_id'], ['tracks.id'],
                                name=op.f('fk_track_snaps_track_id_tracks'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('track_id', name=op.f('pk_track_snaps')),
    )


def downgrade():
    op.drop_table('track_snaps')
    op.drop_column('osm_roads', 'access')
