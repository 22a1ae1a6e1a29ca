"""gbfs: bike-share feeds, their files, published stations/vehicles/zones, station history

Revision ID: e96c7d5cc46c
Revises: e730e1404add
Create Date: 2026-12-01 13:00:00
"""
from alembic import op
import sqlalchemy as sa
from geoalchemy2 import Geometry
from sqlalchemy.dialects import postgresql

revision = 'e96c7d5cc46c'
down_revision = 'e730e1404add'
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def _feed_fk(table):
    return sa.ForeignKeyConstraint(['feed'], ['gbfs_feeds.slug'],
                                   name=op.f(f'fk_{table}_feed_gbfs_feeds'),
                                   ondelete='CASCADE', onupdate='CASCADE')


def _geom(kind, srid, computed=False, nullable=True):
    args = [Geometry(geometry_type=kind, srid=srid, dimension=2, spatial_index=False,
                     from_text='ST_GeomFromEWKT', name='geometry')]
    if computed:
        args.append(sa.Computed('ST_Transform(geom, 3857)', persisted=True))
    return args, nullable


def upgrade():
    jsonb = postgresql.JSONB(astext_type=sa.Text())
    op.create_table(
        'gbfs_feeds',
        sa.Column('slug', sa.Text(), nullable=False),
        sa.Column('url', sa.Text(), nullable=False),
        sa.Column('headers', jsonb, server_default='{}', nullable=False),
        sa.Column('language', sa.Text(), nullable=True),
        sa.Column('enabled', sa.Boolean(), server_default='true', nullable=False),
        sa.Column('created_at', TZ, server_default=sa.text('now()'), nullable=False),
        sa.Column('version', sa.Text(), nullable=True),
        sa.Column('system_name', sa.Text(), nullable=True),
        sa.Column('stale', sa.Boolean(), server_default='false', nullable=False),
        sa.Column('stale_reason', sa.Text(), nullable=True),
        sa.Column('warnings', jsonb, server_default='[]', nullable=False),
        sa.Column('last_success_at', TZ, nullable=True),
        sa.Column('last_attempt_at', TZ, nullable=True),
        sa.CheckConstraint("slug ~ '^[a-z0-9][a-z0-9_-]{0,62}$'",
                           name=op.f('ck_gbfs_feeds_slug')),
        sa.PrimaryKeyConstraint('slug', name=op.f('pk_gbfs_feeds')),
    )
    op.create_table(
        'gbfs_feed_files',
        sa.Column('feed', sa.Text(), nullable=False),
        sa.Column('name', sa.Text(), nullable=False),
        sa.Column('url', sa.Text(), nullable=False),
        sa.Column('version', sa.Text(), nullable=True),
        sa.Column('etag', sa.Text(), nullable=True),
        sa.Column('last_modified', sa.Text(), nullable=True),
        sa.Column('last_updated', TZ, nullable=True),
        sa.Column('ttl', sa.Integer(), nullable=True),
        sa.Column('next_due_at', TZ, server_default=sa.text('now()'), nullable=False),
        sa.Column('failures', sa.Integer(), server_default='0', nullable=False),
        sa.Column('error', sa.Text(), nullable=True),
        sa.Column('data', jsonb, nullable=True),
        sa.Column('warnings', jsonb, server_default='[]', nullable=False),
        sa.Column('fetched_at', TZ, nullable=True),
        _feed_fk('gbfs_feed_files'),
        sa.PrimaryKeyConstraint('feed', 'name', name=op.f('pk_gbfs_feed_files')),
    )
    op.create_table(
        'gbfs_stations',
        sa.Column('feed', sa.Text(), nullable=False),
        sa.Column('station_id', sa.Text(), nullable=False),
        sa.Column('name', sa.Text(), nullable=True),
        sa.Column('capacity', sa.Integer(), nullable=True),
        sa.Column('num_bikes_available', sa.Integer(), nullable=True),
        sa.Column('num_docks_available', sa.Integer(), nullable=True),
        sa.Column('is_renting', sa.Boolean(), nullable=True),
        sa.Column('is_returning', sa.Boolean(), nullable=True),
        sa.Column('last_reported', TZ, nullable=True),
        sa.Column('geom', *_geom('POINT', 4326)[0], nullable=False),
        sa.Column('geom_3857', *_geom('POINT', 3857, computed=True)[0], nullable=True),
        _feed_fk('gbfs_stations'),
        sa.PrimaryKeyConstraint('feed', 'station_id', name=op.f('pk_gbfs_stations')),
    )
    op.create_geospatial_index('idx_gbfs_stations_geom_3857', 'gbfs_stations', ['geom_3857'],
                               unique=False, postgresql_using='gist', postgresql_ops={})
    op.create_table(
        'gbfs_station_history',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('feed', sa.Text(), nullable=False),
        sa.Column('station_id', sa.Text(), nullable=False),
        sa.Column('recorded_at', TZ, nullable=False),
        sa.Column('num_bikes_available', sa.Integer(), nullable=True),
        sa.Column('num_docks_available', sa.Integer(), nullable=True),
        sa.Column('is_renting', sa.Boolean(), nullable=True),
        sa.Column('is_returning', sa.Boolean(), nullable=True),
        _feed_fk('gbfs_station_history'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_gbfs_station_history')),
    )
    op.create_index('ix_gbfs_station_history_station_time', 'gbfs_station_history',
                    ['feed', 'station_id', 'recorded_at'], unique=False)
    op.create_index('ix_gbfs_station_history_recorded_at', 'gbfs_station_history',
                    ['recorded_at'], unique=False)
    op.create_table(
        'gbfs_vehicles',
        sa.Column('feed', sa.Text(), nullable=False),
        sa.Column('vehicle_id', sa.Text(), nullable=False),
        sa.Column('vehicle_type_id', sa.Text(), nullable=True),
        sa.Column('form_factor', sa.Text(), nullable=True),
        sa.Column('is_reserved', sa.Boolean(), nullable=False),
        sa.Column('is_disabled', sa.Boolean(), nullable=False),
        sa.Column('current_range_meters', sa.Float(), nullable=True),
        sa.Column('station_id', sa.Text(), nullable=True),
        sa.Column('geom', *_geom('POINT', 4326)[0], nullable=True),
        sa.Column('geom_3857', *_geom('POINT', 3857, computed=True)[0], nullable=True),
        _feed_fk('gbfs_vehicles'),
        sa.PrimaryKeyConstraint('feed', 'vehicle_id', name=op.f('pk_gbfs_vehicles')),
    )
    op.create_geospatial_index('idx_gbfs_vehicles_geom_3857', 'gbfs_vehicles', ['geom_3857'],
                               unique=False, postgresql_using='gist', postgresql_ops={})
    op.create_table(
        'gbfs_zones',
        sa.Column('feed', sa.Text(), nullable=False),
        sa.Column('zone_index', sa.Integer(), nullable=False),
        sa.Column('name', sa.Text(), nullable=True),
        sa.Column('rules', jsonb, nullable=False),
        sa.Column('geom', *_geom('MULTIPOLYGON', 4326)[0], nullable=False),
        sa.Column('geom_3857', *_geom('MULTIPOLYGON', 3857, computed=True)[0], nullable=True),
        _feed_fk('gbfs_zones'),
        sa.PrimaryKeyConstraint('feed', 'zone_index', name=op.f('pk_gbfs_zones')),
    )
    op.create_geospatial_index('idx_gbfs_zones_geom_3857', 'gbfs_zones', ['geom_3857'],
                               unique=False, postgresql_using='gist', postgresql_ops={})


def downgrade():
    for table in ('gbfs_zones', 'gbfs_vehicles', 'gbfs_station_history', 'gbfs_stations',
                  'gbfs_feed_files', 'gbfs_feeds'):
        op.drop_table(table)
