"""The versions of the arrangement in PostgreSQL: every save and import is a new version
with who and when and what it changed; undo marks the current version undone, so the one
before it (or, before the first, the catalog's own) is current again. Runs in the caller's
transaction; the caller commits."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from matching_and_import_db.arrangement.model import (
    Arrangement,
    ArrangementError,
    LayerFacts,
    describe_changes,
    read_document,
)
from matching_and_import_db.errors import Conflict
from matching_and_import_db.sqlfiles import fetch_as, load_sql

PACKAGE = "matching_and_import_db.arrangement"
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Version:
    id: int
    document: dict
    summary: str
    created_at: datetime
    created_by: str | None


@dataclass(frozen=True)
class HistoryEntry:
    id: int
    summary: str
    created_at: datetime
    created_by: str | None
    undone_at: datetime | None
    undone_by: str | None


def current_version(conn) -> Version | None:
    with conn.cursor() as cur:
        cur.execute(load_sql(PACKAGE, "current_version.sql"))
        rows = fetch_as(cur, Version)
    return rows[0] if rows else None


def current(conn, facts: Mapping[str, LayerFacts], basemaps=()) -> Arrangement:
    """The arrangement in force. The catalog or the settings may have changed since it was
    saved: an entry that no longer fits (a layer gone, a declared group gone, a basemap no
    longer configured) is left out and the rest kept, rather than failing the map."""
    version = current_version(conn)
    if version is None:
        return Arrangement()
    doc = dict(version.document)
    doc["layers"] = [la for la in doc.get("layers", []) if la.get("id") in facts]
    if doc.get("basemap") not in (None, "none", *basemaps):
        doc.pop("basemap")
    for _ in range(len(doc["layers"]) + 1):
        try:
            return read_document(doc, facts, basemaps)
        except ArrangementError as e:
            if e.path[:1] != ("layers",) or len(e.path) < 2:
                break
            log.warning("map arrangement version %s: %s; left out", version.id, e.message)
            doc["layers"] = [la for i, la in enumerate(doc["layers"]) if i != e.path[1]]
    log.warning("map arrangement version %s no longer fits the catalog; showing the "
                "catalog's own", version.id)
    return Arrangement()


def save(conn, arrangement: Arrangement, user_id: int | None,
         facts: Mapping[str, LayerFacts], basemaps=()) -> Version | None:
    """A new current version, or None when it is the arrangement already in force."""
    with conn.cursor() as cur:
        cur.execute(load_sql(PACKAGE, "lock_versions.sql"))
    before = current(conn, facts, basemaps)
    if before == arrangement:
        return None
    summary = describe_changes(before, arrangement)
    with conn.cursor() as cur:
        cur.execute(load_sql(PACKAGE, "insert_version.sql"),
                    {"document": json.dumps(arrangement.to_document()), "summary": summary,
                     "created_by": user_id})
    return current_version(conn)


def undo(conn, user_id: int | None) -> Version | None:
    """Undo the current version; the version now current (None: the catalog's own)."""
    with conn.cursor() as cur:
        cur.execute(load_sql(PACKAGE, "lock_versions.sql"))
    version = current_version(conn)
    if version is None:
        raise Conflict("nothing to undo: the map shows the catalog's own arrangement")
    with conn.cursor() as cur:
        cur.execute(load_sql(PACKAGE, "undo_version.sql"),
                    {"id": version.id, "undone_by": user_id})
    return current_version(conn)


def history(conn, limit: int = 50) -> list[HistoryEntry]:
    with conn.cursor() as cur:
        cur.execute(load_sql(PACKAGE, "history.sql"), {"limit": limit})
        return fetch_as(cur, HistoryEntry)
