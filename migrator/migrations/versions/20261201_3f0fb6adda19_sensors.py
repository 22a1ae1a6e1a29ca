"""sensors: the device registry, every measurement and signal reading (time series indexed
for range queries per device), and the invalid messages kept for operators

Revision ID: 3f0fb6adda19
Revises: e96c7d5cc46c
Create Date: 2026-12-01 12:45:00
"""
from alembic import op
import sqlalchemy as sa
from geoalchemy2 import Geometry
from sqlalchemy.dialects.postgresql import JSONB

revision = '3f0fb6adda19'
down_revision = 'e96c7d5cc46c'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'sensor_devices',
        sa.Column('device_id', sa.Text(), primary_key=True),
        sa.Column('name', sa.Text(), nullable=False),
        sa.Column('kind', sa.Text(), nullable=False, server_default='sensor'),
        sa.Column('geom', Geometry('POINT', srid=4326, spatial_index=False), nullable=True),
        sa.Column('geom_3857', Geometry('POINT', srid=3857, spatial_index=False),
                  sa.Computed('ST_Transform(geom, 3857)', persisted=True), nullable=True),
        sa.Column('units', JSONB(), nullable=False, server_default=sa.text("'{}'::jsonb")),
        sa.Column('first_seen', sa.DateTime(timezone=True), nullable=False,
                  server_default=sa.func.now()),
        sa.Column('last_seen', sa.DateTime(timezone=True), nullable=False,
                  server_default=sa.func.now()),
    )
    op.create_geospatial_index('idx_sensor_devices_geom_3857', 'sensor_devices',
                               ['geom_3857'], unique=False, postgresql_using='gist')
    op.create_table(
        'sensor_measurements',
        sa.Column('device_id', sa.Text(), nullable=False),
        sa.Column('measured_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('measurement', sa.Text(), nullable=False),
        sa.Column('value', sa.Float(), nullable=False),
        # the history of one device's measurement over a period is one range of this
        # index; a message the broker delivers twice (QoS 1 is at least once) is one row
        sa.PrimaryKeyConstraint('device_id', 'measurement', 'measured_at',
                                name='pk_sensor_measurements'),
    )
    op.create_table(
        'sensor_signals',
        sa.Column('device_id', sa.Text(), nullable=False),
        sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('gateway', sa.Text(), nullable=False),
        sa.Column('rssi', sa.Float(), nullable=True),
        sa.Column('snr', sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint('device_id', 'received_at', 'gateway',
                                name='pk_sensor_signals'),
    )
    op.create_table(
        'sensor_invalid_messages',
        sa.Column('id', sa.BigInteger(), sa.Identity(), primary_key=True),
        sa.Column('received_at', sa.DateTime(timezone=True), nullable=False,
                  server_default=sa.func.now()),
        sa.Column('topic', sa.Text(), nullable=False),
        sa.Column('reason', sa.Text(), nullable=False),
        sa.Column('payload', sa.Text(), nullable=False),
    )
    op.create_index('ix_sensor_invalid_messages_received_at', 'sensor_invalid_messages',
                    ['received_at'])


def downgrade():
    op.drop_table('sensor_invalid_messages')
    op.drop_table('sensor_signals')
    op.drop_table('sensor_measurements')
    op.drop_table('sensor_devices')
