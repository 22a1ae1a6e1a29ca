"""Streaming COPY into PostgreSQL: rows are encoded to COPY text format in batches."""

from __future__ import annotations

import io
from typing import Any, Sequence

import orjson

_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def encode_value(value: Any) -> str:
    if value is None:
        return "\\N"
    if isinstance(value, str):
        return value.translate(_ESCAPES)
    if isinstance(value, dict):
        return orjson.dumps(value).decode().translate(_ESCAPES) if value else "{}"
    return str(value)


class CopyWriter:
    """Buffers rows and sends them with COPY every `batch_rows` rows (bounded memory)."""

    def __init__(self, cursor, table: str, columns: Sequence[str], batch_rows: int = 50_000):
        # table and columns come from the caller's constants, never from input
        self._cursor = cursor
        self._sql = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
        self._batch_rows = batch_rows
        self._buffer = io.StringIO()
        self._pending = 0
        self.rows = 0

    def add(self, row: Sequence[Any]) -> None:
        self._buffer.write("\t".join(map(encode_value, row)))
        self._buffer.write("\n")
        self._pending += 1
        self.rows += 1
        if self._pending >= self._batch_rows:
            self.flush()

    def flush(self) -> None:
        if not self._pending:
            return
        self._buffer.seek(0)
        self._cursor.copy_expert(self._sql, self._buffer)
        self._buffer = io.StringIO()
        self._pending = 0
