"""Datapoints of a workspace's datasets in PostGIS: whole operations in the caller's
transaction, always inside one workspace (set first; the row-level security policies
read it, so a statement without it sees and writes nothing).

Each returns what the caller needs afterwards: how many rows changed and the extent over
which map tiles must be invalidated (after the commit).
"""

from __future__ import annotations

from dataclasses import dataclass

import orjson

from matching_and_import_db.sqlfiles import load_sql
from matching_and_import_db.workspaces.datapoints import Datapoint

PACKAGE = "matching_and_import_db.workspaces"


@dataclass(frozen=True)
class Change:
    rows: int
    bbox: tuple[float, float, float, float] | None  # lon/lat of old and new positions


def act_in_workspace(cur, workspace_id: int) -> None:
    """Bind this transaction to one workspace (SET LOCAL semantics)."""
    cur.execute(load_sql(PACKAGE, "set_workspace.sql"), {"workspace_id": str(workspace_id)})


def find_dataset(cur, slug: str) -> int | None:
    cur.execute(load_sql(PACKAGE, "find_dataset.sql"), {"slug": slug})
    row = cur.fetchone()
    return row[0] if row else None


def ensure_dataset(cur, slug: str) -> int:
    """The dataset's id, made on first use. Without a lock on the dataset row, so pushes
    into one dataset run side by side: a concurrent first push that wins the insert is
    found by the next statement (read committed sees its commit)."""
    for _ in range(3):
        found = find_dataset(cur, slug)
        if found is not None:
            return found
        cur.execute(load_sql(PACKAGE, "create_dataset.sql"), {"slug": slug})
        row = cur.fetchone()
        if row:
            return row[0]
    raise RuntimeError(f"dataset {slug!r} could neither be found nor made")


def upsert_datapoints(cur, dataset_id: int, items: list[Datapoint]) -> Change:
    """Insert or update by identifier; a row changes only for a newer modification time."""
    if not items:
        return Change(0, None)
    # orjson writes a Datapoint as an object keyed by its field names (the record columns
    # of upsert_datapoints.sql) and its times as RFC 3339, ten times faster than building
    # the dicts for json.dumps
    payload = orjson.dumps(items).decode()
    cur.execute(load_sql(PACKAGE, "upsert_datapoints.sql"),
                {"items": payload, "dataset_id": dataset_id})
    return _change(cur.fetchone())


def delete_datapoints(cur, dataset_id: int, identifiers: list[str]) -> Change:
    if not identifiers:
        return Change(0, None)
    cur.execute(load_sql(PACKAGE, "delete_datapoints.sql"),
                {"dataset_id": dataset_id, "identifiers": list(identifiers)})
    return _change(cur.fetchone())


def _change(row) -> Change:
    rows, x0, y0, x1, y1 = row
    return Change(rows, None if x0 is None else (x0, y0, x1, y1))
