"""rides: one name for rides (tracks -> rides, track_events -> ride_events, track_snaps ->
ride_snaps, every track_id column -> ride_id, and their indexes, constraints and sequences)

Written by the rename codemod (codemod: keep-legacy-names). Renames every table, column, constraint, index
and sequence of the public schema whose name has the word track or tracks in it (as the
codemod renames the code: tracks_id_seq -> rides_id_seq, ix_track_events_way ->
ix_ride_events_way, users.tracks_public_by_default -> users.rides_public_by_default).
Renames keep every row, OID and dependency; nothing is copied.

Revision ID: 8cefe3b9be0e
Revises: 544af7156b64
Create Date: 2026-12-01 14:00:00
"""
import re

from alembic import op
import sqlalchemy as sa

revision = '8cefe3b9be0e'
down_revision = '544af7156b64'
branch_labels = None
depends_on = None

TO_RIDE = (re.compile(r"(?<![a-z])track(s?)(?![a-z])"), r"ride\1")
TO_TRACK = (re.compile(r"(?<![a-z])ride(s?)(?![a-z])"), r"track\1")
OBJECTS = {
    "table": "SELECT c.relname, NULL FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
             " WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p')",
    "column": "SELECT a.attname, c.relname FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid"
              " JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = current_schema()"
              " AND c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped",
    "constraint": "SELECT k.conname, c.relname FROM pg_constraint k JOIN pg_class c"
                  " ON c.oid = k.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace"
                  " WHERE n.nspname = current_schema()",
    "index": "SELECT c.relname, NULL FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
             " WHERE n.nspname = current_schema() AND c.relkind = 'i'",
    "sequence": "SELECT c.relname, NULL FROM pg_class c JOIN pg_namespace n"
                " ON n.oid = c.relnamespace WHERE n.nspname = current_schema() AND c.relkind = 'S'",
}
STATEMENTS = {
    "table": "ALTER TABLE {q_old} RENAME TO {q_new}",
    "column": "ALTER TABLE {q_table} RENAME COLUMN {q_old} TO {q_new}",
    "constraint": "ALTER TABLE {q_table} RENAME CONSTRAINT {q_old} TO {q_new}",
    "index": "ALTER INDEX {q_old} RENAME TO {q_new}",
    "sequence": "ALTER SEQUENCE {q_old} RENAME TO {q_new}",
}


def _rename(rule):
    conn = op.get_bind()
    quote = conn.dialect.identifier_preparer.quote_identifier
    pattern, repl = rule
    # columns and constraints first, while their tables have the names the queries give
    for kind in ("column", "constraint", "index", "sequence", "table"):
        for name, table in conn.execute(sa.text(OBJECTS[kind])).fetchall():
            new = pattern.sub(repl, name)
            if new == name:
                continue
            op.execute(STATEMENTS[kind].format(q_old=quote(name), q_new=quote(new),
                                               q_table=quote(table) if table else ""))


def upgrade():
    _rename(TO_RIDE)


def downgrade():
    _rename(TO_TRACK)
