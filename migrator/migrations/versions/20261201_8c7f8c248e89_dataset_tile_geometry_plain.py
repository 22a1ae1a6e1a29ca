"""published datasets: the tile geometry (geom_3857) is a plain column, no longer one
PostgreSQL generates; the dataset reader computes it beside the reading and an upsert
writes it like the other columns. Metadata only: the stored values are kept.

Revision ID: 8c7f8c248e89
Revises: 8cefe3b9be0e
Create Date: 2026-12-01 16:00:00
"""
from alembic import op
from psycopg2 import sql

revision = '8c7f8c248e89'
down_revision = '8cefe3b9be0e'
branch_labels = None
depends_on = None

GENERATED = """SELECT table_name FROM information_schema.columns
WHERE table_schema = 'datasets' AND column_name = 'geom_3857' AND is_generated = %s"""


def _tables(cur, generated: str) -> list[str]:
    cur.execute(GENERATED, (generated,))
    return [row[0] for row in cur.fetchall()]


def upgrade():
    cur = op.get_bind().connection.cursor()
    for table in _tables(cur, "ALWAYS"):
        cur.execute(sql.SQL("ALTER TABLE {} ALTER COLUMN geom_3857 DROP EXPRESSION").format(
            sql.Identifier("datasets", table)))


def downgrade():
    cur = op.get_bind().connection.cursor()
    for table in _tables(cur, "NEVER"):
        cur.execute(sql.SQL(
            "ALTER TABLE {t} DROP COLUMN geom_3857, ADD COLUMN geom_3857 geometry(Geometry, "
            "3857) GENERATED ALWAYS AS (ST_Transform(geom, 3857)) STORED; "
            "CREATE INDEX ON {t} USING gist (geom_3857)").format(
            t=sql.Identifier("datasets", table)))
