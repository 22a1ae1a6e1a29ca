"""initial schema: users, pipelines and their runs, published OSM roads and stops

Revision ID: e62cbb801a93
Revises: 
Create Date: 2026-11-22 13:50:42.969950
"""
from alembic import op
import sqlalchemy as sa
import geoalchemy2
from geoalchemy2 import Geometry
from sqlalchemy.dialects import postgresql

revision = 'e62cbb801a93'
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    # import pipelines load into per-run tables here before publishing
    op.execute("CREATE SCHEMA IF NOT EXISTS staging")
    op.create_geospatial_table('osm_roads',
    sa.Column('osm_id', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('highway', sa.String(length=50), nullable=False),
    sa.Column('name', sa.Text(), nullable=True),
    sa.Column('oneway', sa.String(length=20), nullable=True),
    sa.Column('maxspeed', sa.String(length=50), nullable=True),
    sa.Column('surface', sa.String(length=50), nullable=True),
    sa.Column('zone_traffic', sa.String(length=50), nullable=True),
    sa.Column('cycleway', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('geom', Geometry(geometry_type='LINESTRING', srid=4326, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry', nullable=False), nullable=False),
    sa.Column('geom_3857', Geometry(geometry_type='LINESTRING', srid=3857, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry'), sa.Computed('ST_Transform(geom, 3857)', persisted=True), nullable=True),
    sa.PrimaryKeyConstraint('osm_id', name=op.f('pk_osm_roads'))
    )
    op.create_geospatial_index('idx_osm_roads_geom', 'osm_roads', ['geom'], unique=False, postgresql_using='gist', postgresql_ops={})
    op.create_geospatial_index('idx_osm_roads_geom_3857', 'osm_roads', ['geom_3857'], unique=False, postgresql_using='gist', postgresql_ops={})
    op.create_geospatial_table('osm_stops',
    sa.Column('osm_type', sa.String(length=1), nullable=False),
    sa.Column('osm_id', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('kind', sa.String(length=30), nullable=False),
    sa.Column('name', sa.Text(), nullable=True),
    sa.Column('ref', sa.Text(), nullable=True),
    sa.Column('uic_ref', sa.Text(), nullable=True),
    sa.Column('ref_ifopt', sa.Text(), nullable=True),
    sa.Column('ref_sloid', sa.Text(), nullable=True),
    sa.Column('local_ref', sa.Text(), nullable=True),
    sa.Column('operator', sa.Text(), nullable=True),
    sa.Column('tags', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('geom', Geometry(geometry_type='POINT', srid=4326, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry', nullable=False), nullable=False),
    sa.Column('geom_3857', Geometry(geometry_type='POINT', srid=3857, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry'), sa.Computed('ST_Transform(geom, 3857)', persisted=True), nullable=True),
    sa.PrimaryKeyConstraint('osm_type', 'osm_id', name=op.f('pk_osm_stops'))
    )
    op.create_geospatial_index('idx_osm_stops_geom', 'osm_stops', ['geom'], unique=False, postgresql_using='gist', postgresql_ops={})
    op.create_geospatial_index('idx_osm_stops_geom_3857', 'osm_stops', ['geom_3857'], unique=False, postgresql_using='gist', postgresql_ops={})
    op.create_table('pipelines',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('kind', sa.String(length=50), nullable=False),
    sa.Column('config', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('schedule', sa.String(length=100), nullable=True),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pipelines')),
    sa.UniqueConstraint('name', name=op.f('uq_pipelines_name'))
    )
    op.create_table('users',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('issuer', sa.String(length=500), nullable=False),
    sa.Column('subject', sa.String(length=255), nullable=False),
    sa.Column('email', sa.String(length=320), nullable=True),
    sa.Column('display_name', sa.String(length=255), nullable=True),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('last_login_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users')),
    sa.UniqueConstraint('issuer', 'subject', name=op.f('uq_users_issuer'))
    )
    op.create_table('pipeline_runs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('pipeline_id', sa.Integer(), nullable=False),
    sa.Column('trigger', sa.String(length=20), nullable=False),
    sa.Column('scheduled_for', sa.DateTime(timezone=True), nullable=False),
    sa.Column('requested_by', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('lease_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('worker', sa.String(length=200), nullable=True),
    sa.Column('phase', sa.String(length=50), nullable=True),
    sa.Column('counts', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('phase_seconds', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('log', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('message', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['pipeline_id'], ['pipelines.id'], name=op.f('fk_pipeline_runs_pipeline_id_pipelines'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['requested_by'], ['users.id'], name=op.f('fk_pipeline_runs_requested_by_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pipeline_runs'))
    )
    op.create_index('ix_pipeline_runs_pipeline_id_created_at', 'pipeline_runs', ['pipeline_id', 'created_at'], unique=False)
    op.create_index('ix_pipeline_runs_status', 'pipeline_runs', ['status'], unique=False)
    op.create_index('uq_pipeline_runs_schedule_slot', 'pipeline_runs', ['pipeline_id', 'scheduled_for'], unique=True, postgresql_where=sa.text("trigger = 'schedule'"))


def downgrade():
    op.drop_index('uq_pipeline_runs_schedule_slot', table_name='pipeline_runs', postgresql_where=sa.text("trigger = 'schedule'"))
    op.drop_index('ix_pipeline_runs_status', table_name='pipeline_runs')
    op.drop_index('ix_pipeline_runs_pipeline_id_created_at', table_name='pipeline_runs')
    op.drop_table('pipeline_runs')
    op.drop_table('users')
    op.drop_table('pipelines')
    op.drop_geospatial_index('idx_osm_stops_geom_3857', table_name='osm_stops', postgresql_using='gist', column_name='geom_3857')
    op.drop_geospatial_index('idx_osm_stops_geom', table_name='osm_stops', postgresql_using='gist', column_name='geom')
    op.drop_geospatial_table('osm_stops')
    op.drop_geospatial_index('idx_osm_roads_geom_3857', table_name='osm_roads', postgresql_using='gist', column_name='geom_3857')
    op.drop_geospatial_index('idx_osm_roads_geom', table_name='osm_roads', postgresql_using='gist', column_name='geom')
    op.drop_geospatial_table('osm_roads')
    op.execute("DROP SCHEMA IF EXISTS staging CASCADE")
