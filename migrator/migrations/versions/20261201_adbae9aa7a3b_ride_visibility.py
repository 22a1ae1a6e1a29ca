"""ride visibility: the one rule of who is shown a ride's data, as a SQL function

ride_shown_to(status, public, owner_id, viewer_id): a ride's data is shown when its
processing is complete and it is public or the viewer's own; viewer_id NULL is everyone
else. Queries, tiles, OGC features and road statistics call it
(matching_and_import_db/tracks/visibility.py); the ride page's Python check
(visibility.shown_to_others) is the same rule for one loaded ride, and a test compares the
two. A plain SQL expression, IMMUTABLE and not STRICT, so the planner inlines it: indexes
on the columns keep working.

Revision ID: adbae9aa7a3b
Revises: 9c4e2b7d1a05
Create Date: 2026-12-01 13:00:00
"""
from alembic import op

revision = 'adbae9aa7a3b'
down_revision = '9c4e2b7d1a05'
branch_labels = None
depends_on = None


def upgrade():
    op.execute("""
        CREATE FUNCTION ride_shown_to(status text, public boolean, owner_id bigint,
                                      viewer_id bigint) RETURNS boolean
        LANGUAGE sql IMMUTABLE PARALLEL SAFE
        AS $$ SELECT status = 'complete'
                     AND (public OR coalesce(owner_id = viewer_id, false)) $$
    """)


def downgrade():
    op.execute("DROP FUNCTION ride_shown_to(text, boolean, bigint, bigint)")
