"""usage_daily: requests per day, kind of route and URL rule (analytics without personal data)

Revision ID: 544af7156b64
Revises: 751b4ed66ed8
Create Date: 2026-12-01 14:00:00
"""
from alembic import op
import sqlalchemy as sa

revision = '544af7156b64'
down_revision = '751b4ed66ed8'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'usage_daily',
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('kind', sa.String(length=10), nullable=False),
        sa.Column('route', sa.String(length=300), nullable=False),
        sa.Column('count', sa.BigInteger(), nullable=False, server_default='0'),
        sa.CheckConstraint("kind IN ('page', 'tile', 'api')", name=op.f('ck_usage_daily_kind')),
        sa.PrimaryKeyConstraint('day', 'kind', 'route', name=op.f('pk_usage_daily')),
    )


def downgrade():
    op.drop_table('usage_daily')
