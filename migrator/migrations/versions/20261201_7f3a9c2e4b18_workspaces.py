"""workspaces: members with a role, machine clients, datasets of datapoints and map
definitions; datasets, datapoints and maps kept apart by row-level security

Isolation is PostgreSQL's own: every row of the three tables carries its workspace, and a
policy compares it with the transaction's `portal.workspace_id` (set with set_config(...,
true), which PgBouncer's transaction pooling keeps within the transaction). FORCE makes the
policy hold for the tables' owner too, which is the role the app and the migrator share.
A query without the setting sees and writes nothing.

Revision ID: 7f3a9c2e4b18
Revises: adbae9aa7a3b
Create Date: 2026-12-01 13:00:00
"""
from alembic import op
import sqlalchemy as sa
from geoalchemy2 import Geometry
from sqlalchemy.dialects.postgresql import JSONB

revision = '7f3a9c2e4b18'
down_revision = 'adbae9aa7a3b'
branch_labels = None
depends_on = None

def upgrade():
    op.create_table(
        'workspaces',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('slug', sa.String(63), nullable=False, unique=True),
        sa.Column('name', sa.String(255), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.func.now(),
                  nullable=False),
    )
    op.create_table(
        'workspace_members',
        sa.Column('workspace_id', sa.Integer(),
                  sa.ForeignKey('workspaces.id', ondelete='CASCADE'), primary_key=True),
        sa.Column('user_id', sa.Integer(), sa.ForeignKey('users.id', ondelete='CASCADE'),
                  primary_key=True),
        sa.Column('role', sa.String(10), nullable=False),
        sa.CheckConstraint("role IN ('viewer', 'editor', 'owner')",
                           name='ck_workspace_members_role'),
    )
    op.create_table(
        'workspace_clients',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('workspace_id', sa.Integer(),
                  sa.ForeignKey('workspaces.id', ondelete='CASCADE'), nullable=False),
        # the OAuth client id the provider puts in the token (client_id / azp)
        sa.Column('client_id', sa.String(255), nullable=False, unique=True),
        sa.Column('name', sa.String(255), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.func.now(),
                  nullable=False),
    )
    op.create_table(
        'workspace_datasets',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('workspace_id', sa.Integer(),
                  sa.ForeignKey('workspaces.id', ondelete='CASCADE'), nullable=False),
        sa.Column('slug', sa.String(63), nullable=False),
        sa.Column('title', sa.String(255), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.func.now(),
                  nullable=False),
        sa.UniqueConstraint('workspace_id', 'slug', name='uq_workspace_datasets_slug'),
        sa.UniqueConstraint('workspace_id', 'id', name='uq_workspace_datasets_id'),
    )
    op.create_table(
        'workspace_datapoints',
        sa.Column('workspace_id', sa.Integer(), nullable=False),
        sa.Column('dataset_id', sa.Integer(), nullable=False),
        sa.Column('identifier', sa.String(255), nullable=False),
        sa.Column('name', sa.Text()),
        sa.Column('survey_id', sa.String(255)),
        sa.Column('form_id', sa.String(255)),
        sa.Column('created_at', sa.DateTime(timezone=True)),
        sa.Column('modified_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('properties', JSONB(), nullable=False, server_default='{}'),
        sa.Column('geom', Geometry('POINT', 4326, spatial_index=False), nullable=False),
        sa.Column('geom_3857', Geometry('POINT', 3857, spatial_index=False),
                  sa.Computed('ST_Transform(geom, 3857)', persisted=True)),
        sa.Column('received_at', sa.DateTime(timezone=True), server_default=sa.func.now(),
                  nullable=False),
        sa.PrimaryKeyConstraint('dataset_id', 'identifier'),
        # a datapoint's workspace is its dataset's: the policy on either table holds for both
        sa.ForeignKeyConstraint(['workspace_id', 'dataset_id'],
                                ['workspace_datasets.workspace_id', 'workspace_datasets.id'],
                                ondelete='CASCADE'),
    )
    op.create_index('ix_workspace_datapoints_geom_3857', 'workspace_datapoints',
                    ['geom_3857'], postgresql_using='gist')
    op.create_table(
        'workspace_maps',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('workspace_id', sa.Integer(),
                  sa.ForeignKey('workspaces.id', ondelete='CASCADE'), nullable=False),
        sa.Column('slug', sa.String(63), nullable=False),
        sa.Column('title', sa.String(255), nullable=False),
        sa.Column('definition', JSONB(), nullable=False),
        sa.Column('listed', sa.Boolean(), nullable=False, server_default='true'),
        # an unlisted map is reachable with its token only: SHA-256 of it, shown once
        sa.Column('token_hash', sa.String(64)),
        sa.Column('version', sa.Integer(), nullable=False, server_default='1'),
        sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.func.now(),
                  nullable=False),
        sa.UniqueConstraint('workspace_id', 'slug'),
    )
    op.execute("""
        CREATE FUNCTION portal_workspace() RETURNS integer LANGUAGE sql STABLE AS
        $$ SELECT nullif(current_setting('portal.workspace_id', true), '')::integer $$
    """)
    op.execute("""
        ALTER TABLE workspace_datasets ENABLE ROW LEVEL SECURITY;
        ALTER TABLE workspace_datasets FORCE ROW LEVEL SECURITY;
        CREATE POLICY workspace_datasets_workspace ON workspace_datasets
            USING (workspace_id = portal_workspace())
            WITH CHECK (workspace_id = portal_workspace());
        ALTER TABLE workspace_datapoints ENABLE ROW LEVEL SECURITY;
        ALTER TABLE workspace_datapoints FORCE ROW LEVEL SECURITY;
        CREATE POLICY workspace_datapoints_workspace ON workspace_datapoints
            USING (workspace_id = portal_workspace())
            WITH CHECK (workspace_id = portal_workspace());
        ALTER TABLE workspace_maps ENABLE ROW LEVEL SECURITY;
        ALTER TABLE workspace_maps FORCE ROW LEVEL SECURITY;
        CREATE POLICY workspace_maps_workspace ON workspace_maps
            USING (workspace_id = portal_workspace())
            WITH CHECK (workspace_id = portal_workspace());
    """)


def downgrade():
    for table in ('workspace_maps', 'workspace_datapoints', 'workspace_datasets'):
        op.drop_table(table)
    op.execute('DROP FUNCTION portal_workspace()')
    op.drop_table('workspace_clients')
    op.drop_table('workspace_members')
    op.drop_table('workspaces')
