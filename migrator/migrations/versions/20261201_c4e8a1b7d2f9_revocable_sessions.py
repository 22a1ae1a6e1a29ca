"""revocable sessions: a session version per user (logout and admins bump it), the time the
role was last confirmed at the provider, and the provider's refresh token to confirm it with

Revision ID: c4e8a1b7d2f9
Revises: 5a7c0d1e2f30
Create Date: 2026-12-01 10:00:00
"""
from alembic import op
import sqlalchemy as sa

revision = 'c4e8a1b7d2f9'
down_revision = '5a7c0d1e2f30'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('users', sa.Column('session_version', sa.Integer(), server_default='0',
                                     nullable=False))
    op.add_column('users', sa.Column('role_checked_at', sa.DateTime(timezone=True),
                                     nullable=True))
    op.add_column('users', sa.Column('oidc_refresh_token', sa.Text(), nullable=True))


def downgrade():
    op.drop_column('users', 'oidc_refresh_token')
    op.drop_column('users', 'role_checked_at')
    op.drop_column('users', 'session_version')
