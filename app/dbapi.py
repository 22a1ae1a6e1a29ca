"""Running SQL from the web app: a psycopg2 cursor on the SQLAlchemy session's own
connection, so a statement composed with psycopg2.sql (or loaded by
matching_and_import_db.sqlfiles.load_sql) runs in the request's one transaction, beside the
ORM's reads and writes. Values are psycopg2 %(name)s parameters, as everywhere."""

from __future__ import annotations

from psycopg2 import sql
from psycopg2.extras import RealDictCursor

from app.extensions import db


def cursor(*, dicts: bool = False):
    """A cursor in the session's transaction; rows as dicts with dicts=True."""
    conn = db.session.connection().connection.driver_connection
    return conn.cursor(cursor_factory=RealDictCursor) if dicts else conn.cursor()


def fetch_dicts(statement: sql.Composable, params: dict | None = None) -> list[dict]:
    with cursor(dicts=True) as cur:
        cur.execute(statement, params or {})
        return [dict(row) for row in cur.fetchall()]


def fetch_one(statement: sql.Composable, params: dict | None = None) -> tuple | None:
    with cursor() as cur:
        cur.execute(statement, params or {})
        return cur.fetchone()


def connection():
    """The session's DB-API connection, for domain functions that take one (they run in
    the request's transaction; the view commits)."""
    return db.session.connection().connection.driver_connection
