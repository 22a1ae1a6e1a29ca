"""The columns of the official stop tables, listed once.

The staging table, the COPY into it, the merge into `official_stops` and its change check
are all built from OFFICIAL_COLUMNS. The migrations (history, never edited) and the ORM
model declare the published table; tests/test_sql_style.py checks that both hold exactly
these columns with the same NOT NULLs. A column added to OfficialStop and to the published
table (a migration and the model) needs one line here, nothing in the SQL files.
"""

from __future__ import annotations

from psycopg2 import sql

from matching_and_import_db.stops.model import OfficialStop

# (column, staging type) in COPY order; every column but geom is an OfficialStop attribute
OFFICIAL_COLUMNS: tuple[tuple[str, str], ...] = (
    ("stop_id", "text NOT NULL"),
    ("source", "text NOT NULL"),
    ("name", "text"),
    ("platform_code", "text"),
    ("operator", "text"),
    ("valid_from", "date"),
    ("valid_to", "date"),
    ("sloid", "text"),
    ("ifopt", "text"),
    ("uic_ref", "text"),
    ("didok", "text"),
    ("gtfs_stop_id", "text"),
    ("atco_code", "text"),
    ("parent_id", "text"),
    ("level", "text NOT NULL"),
    ("mode", "text"),
    ("extra", "jsonb NOT NULL"),
    ("geom", "geometry(Point, 4326) NOT NULL"),
)
OFFICIAL_COLUMN_NAMES = tuple(name for name, _ in OFFICIAL_COLUMNS)
_ATTRIBUTES = tuple(name for name in OFFICIAL_COLUMN_NAMES if name != "geom")


def official_row(stop: OfficialStop) -> tuple:
    """One stop as a COPY row in OFFICIAL_COLUMNS order."""
    return (*(getattr(stop, name) for name in _ATTRIBUTES),
            f"SRID=4326;POINT({stop.lon!r} {stop.lat!r})")


def official_sql() -> dict[str, sql.Composable]:
    """The column fragments create_staging.sql and publish_official.sql are filled with."""
    def columns(prefix: str | None = None, names=OFFICIAL_COLUMN_NAMES) -> sql.Composed:
        return sql.SQL(", ").join(
            sql.Identifier(prefix, n) if prefix else sql.Identifier(n) for n in names)

    updated = tuple(n for n in OFFICIAL_COLUMN_NAMES if n != "stop_id")
    return {
        # types come from the constant above, never from input
        "official_ddl": sql.SQL(", ").join(
            sql.SQL("{} {}").format(sql.Identifier(n), sql.SQL(t)) for n, t in OFFICIAL_COLUMNS),
        "official_columns": columns(),
        "official_updates": sql.SQL(", ").join(
            sql.SQL("{0} = EXCLUDED.{0}").format(sql.Identifier(n)) for n in updated),
        "published_values": columns("p", updated),
        "excluded_values": columns("excluded", updated),
    }
