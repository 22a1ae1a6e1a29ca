"""The one way to load a static SQL statement: a ``.sql`` file in the ``sql/`` folder beside
the code that runs it.

One placeholder style everywhere: values are psycopg2 ``%(name)s`` parameters, bound by the
driver; identifiers (a staging table of this run, a catalog table) are ``{name}`` fields,
filled by :func:`load_sql` as quoted identifiers through :mod:`psycopg2.sql`, never by string
formatting. A literal ``%`` in a file is written ``%%`` and a literal brace ``{{`` / ``}}``,
as psycopg2 and :meth:`psycopg2.sql.SQL.format` expect.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from importlib import resources
from typing import TypeVar

from psycopg2 import sql

T = TypeVar("T")
Part = str | tuple[str, str] | sql.Composable


@cache
def sql_file(package: str, name: str) -> str:
    """The text of ``<package>/sql/<name>``, read once per process."""
    return resources.files(package).joinpath("sql", name).read_text()


def load_sql(package: str, name: str, **parts: Part) -> sql.Composed:
    """A statement from ``<package>/sql/<name>`` with its ``{field}`` identifiers filled.

    A part given as ``"table"`` or ``("schema", "table")`` becomes a quoted identifier; a
    part already composed (a column list built with :mod:`psycopg2.sql`) is used as it is.
    The result is passed to ``cursor.execute`` with the ``%(name)s`` values beside it.
    """
    if not parts:
        return _without_fields(package, name)
    filled = {key: value if isinstance(value, sql.Composable)
              else sql.Identifier(*(value if isinstance(value, tuple) else (value,)))
              for key, value in parts.items()}
    return sql.SQL(sql_file(package, name)).format(**filled)


@cache
def _without_fields(package: str, name: str) -> sql.Composed:
    """A file without {fields}, composed once per process (parsing it costs 10-35 µs, paid
    on every statement of a hot loop otherwise); composed objects are never changed."""
    return sql.SQL(sql_file(package, name)).format()


def fetch_as(cur, make: Callable[..., T]) -> list[T]:
    """The rows of the statement just run as make(**row), keyed by its column names: the
    aliases in the .sql file are the contract between it and the dataclass it fills, not
    the order of the columns."""
    names = [column.name for column in cur.description]
    return [make(**dict(zip(names, row, strict=True))) for row in cur.fetchall()]
