"""The one-shot migrator: wait for the database, create PostGIS, upgrade to head, exit.

Exit status 0 when the schema is at head (running it again changes nothing); non-zero
with a message naming the problem otherwise.
"""

from __future__ import annotations

import logging
import sys
import time

import psycopg2
from sqlalchemy.engine import make_url

from matching_and_import_db.schema import schema_status
from matching_and_import_db.settings import Settings, SettingsError
from matching_and_import_db.settings.logging_setup import configure_logging

log = logging.getLogger("migrator")


def wait_for_database(url: str, attempts: int, delay: float) -> None:
    dsn = url
    last_error = None
    for attempt in range(1, attempts + 1):
        try:
            psycopg2.connect(dsn, connect_timeout=5).close()
            return
        except psycopg2.OperationalError as exc:
            last_error = str(exc).strip().splitlines()[0] if str(exc).strip() else repr(exc)
            log.info("database not reachable yet (attempt %d/%d): %s", attempt, attempts,
                     last_error)
            time.sleep(delay)
    shown = make_url(url).render_as_string(hide_password=True)
    raise SystemExit(f"migrator: gave up after {attempts} attempts to reach the database at "
                     f"{shown}: {last_error}")


def check_encoding(url: str) -> None:
    """OSM names, stop names, user names: everything is Unicode; SQL_ASCII would fail later."""
    conn = psycopg2.connect(url)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT pg_encoding_to_char(encoding) FROM pg_database "
                        "WHERE datname = current_database()")
            encoding = cur.fetchone()[0]
    finally:
        conn.close()
    if encoding != "UTF8":
        raise SystemExit(f"migrator: the database encoding is {encoding}; the portal needs UTF8 "
                         "(CREATE DATABASE ... ENCODING 'UTF8', or initdb --encoding=UTF8)")


def create_postgis(url: str) -> None:
    conn = psycopg2.connect(url)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    except psycopg2.Error as exc:
        raise SystemExit(
            "migrator: could not create the postgis extension: "
            f"{str(exc).strip()} (is PostGIS installed on the database server, e.g. the Debian "
            "package postgresql-15-postgis-3, and may this user create extensions?)") from None
    finally:
        conn.close()


def main(argv: list[str] | None = None) -> int:
    try:
        settings = Settings.from_env(overrides={"check_schema": False})
    except SettingsError as exc:
        print(f"migrator: {exc}", file=sys.stderr)
        return 2
    configure_logging(settings, role="migrator")
    wait_for_database(settings.libpq_dsn, attempts=settings.migrator_attempts, delay=2.0)
    check_encoding(settings.libpq_dsn)
    create_postgis(settings.libpq_dsn)

    from flask_migrate import upgrade

    from app import create_app
    app = create_app(settings=settings)
    with app.app_context():
        upgrade()
    conn = psycopg2.connect(settings.libpq_dsn)
    try:
        schema = schema_status(conn)
    finally:
        conn.close()
    if not schema.at_head:
        print(f"migrator: schema is at {sorted(schema.current)} after upgrade, expected "
              f"{sorted(schema.heads)}", file=sys.stderr)
        return 1
    log.info("schema at head %s", ", ".join(sorted(schema.heads)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
