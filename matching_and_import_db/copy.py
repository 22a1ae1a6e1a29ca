"""Streaming COPY into PostgreSQL.

Rows are encoded to COPY text format in batches; a background thread sends each batch while
the caller goes on producing the next one. psycopg2 releases the GIL while libpq talks to
the server, so parsing (here) and ingesting (in PostgreSQL) use both cores.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Sequence
from io import BytesIO, StringIO
from typing import Any

import orjson
from psycopg2 import sql

ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
NULL = "\\N"


def encode_value(value: Any) -> str:
    if value is None:
        return NULL
    if isinstance(value, str):
        return value.translate(ESCAPES)
    if isinstance(value, dict):
        return orjson.dumps(value).decode().translate(ESCAPES) if value else "{}"
    return str(value)


class CopyPipe:
    """One sender thread for any number of tables on one cursor; use as a context manager.

    Leaving the block waits until every batch is in the database and re-raises the first
    error the sender met (a bad row, a lost connection).
    """

    def __init__(self, cursor, batch_rows: int = 2_000):
        self._cursor = cursor
        self.batch_rows = batch_rows
        self._queue: queue.Queue = queue.Queue(maxsize=8)  # bounded: memory stays flat
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._send, name="copy-sender", daemon=True)
        self._writers: list[TableWriter] = []

    def __enter__(self) -> CopyPipe:
        self._thread.start()
        return self

    def table(self, table: str | tuple[str, str], columns: Sequence[str]) -> TableWriter:
        """A writer of rows into table ("name" or ("schema", "name")) in columns' order;
        both are quoted as identifiers."""
        names = table if isinstance(table, tuple) else (table,)
        statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
            sql.Identifier(*names), sql.SQL(", ").join(map(sql.Identifier, columns)))
        # rendered once here: the sender thread must not use the connection for quoting
        writer = TableWriter(self, statement.as_string(self._cursor))
        self._writers.append(writer)
        return writer

    def submit(self, sql: str, data: str | bytes) -> None:
        """One chunk of COPY data for a statement; writers call it, and so may a caller
        whose rows come already encoded (CSV from Arrow's writer)."""
        if self._error is not None:
            raise self._error
        self._queue.put((sql, data))

    def _send(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            if self._error is None:
                try:
                    # one read of the whole batch: the GIL is taken once, not per 8 kB chunk
                    data = item[1]
                    stream = BytesIO(data) if isinstance(data, bytes) else StringIO(data)
                    self._cursor.copy_expert(item[0], stream, size=len(data) + 1)
                except BaseException as exc:  # handed to the producer at the next submit/exit
                    self._error = exc

    def __exit__(self, exc_type, exc, tb) -> None:
        try:
            if exc_type is None:
                for writer in self._writers:
                    writer.flush()
        finally:
            self._queue.put(None)
            self._thread.join()
        if exc_type is None and self._error is not None:
            raise self._error


class TableWriter:
    def __init__(self, pipe: CopyPipe, sql: str):
        self._pipe = pipe
        self._sql = sql
        self._lines: list[str] = []
        self.rows = 0

    def add(self, row: Sequence[Any]) -> None:
        self.add_line("\t".join(map(encode_value, row)))

    def add_line(self, line: str) -> None:
        """A row already in COPY text format (see encode_value), for hot loops."""
        self._lines.append(line)
        self.rows += 1
        if len(self._lines) >= self._pipe.batch_rows:
            self.flush()

    def flush(self) -> None:
        if self._lines:
            self._lines.append("")
            self._pipe.submit(self._sql, "\n".join(self._lines))
            self._lines = []
