"""Daily counts of what is used, without personal data: per UTC day, kind of route (page,
tile, api) and route pattern (the URL rule, never the path: no ids, no query), a number.
No address, no cookie, no user: nothing that tells one visitor from another is looked at.

Counting costs a dict increment under a lock per request; each process adds its counts to
the day's totals in PostgreSQL (one upsert per route counted, 100 a round trip) at most every
flush_seconds, and keeps them for the next try when that fails.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from psycopg2.extras import execute_batch

from matching_and_import_db.sqlfiles import fetch_as, load_sql

KINDS = ("page", "tile", "api")
MAX_PENDING = 5000  # distinct (day, kind, route) kept while PostgreSQL is away


class UsageCounter:
    def __init__(self, flush_seconds: float):
        self.flush_seconds = flush_seconds
        self._counts: Counter[tuple[date, str, str]] = Counter()
        self._lock = threading.Lock()
        self._flushed_at = time.monotonic()

    def add(self, kind: str, route: str) -> bool:
        """Counts one request; True when it is time to flush."""
        day = datetime.now(UTC).date()
        with self._lock:
            if len(self._counts) < MAX_PENDING or (day, kind, route) in self._counts:
                self._counts[(day, kind, route)] += 1
            return time.monotonic() - self._flushed_at >= self.flush_seconds

    def flush(self, conn) -> int:
        """Adds the pending counts to the totals in one transaction of conn; on failure
        they are kept for the next flush. Returns how many requests were added."""
        with self._lock:
            pending, self._counts = self._counts, Counter()
            self._flushed_at = time.monotonic()
        if not pending:
            return 0
        try:
            with conn.cursor() as cur:  # 100 upserts a round trip
                execute_batch(cur, load_sql("matching_and_import_db.monitoring",
                                            "add_counts.sql"),
                              [{"day": d, "kind": k, "route": r, "count": n}
                               for (d, k, r), n in sorted(pending.items())], page_size=100)
            conn.commit()
        except Exception:
            conn.rollback()
            with self._lock:
                self._counts.update(pending)
            raise
        return sum(pending.values())


@dataclass(frozen=True)
class DayCount:
    day: date
    kind: str
    count: int


@dataclass(frozen=True)
class RouteCount:
    kind: str
    route: str
    count: int


def daily_counts(conn, days: int = 14) -> list[DayCount]:
    since = datetime.now(UTC).date() - timedelta(days=days - 1)
    with conn.cursor() as cur:
        cur.execute(load_sql("matching_and_import_db.monitoring", "daily_counts.sql"),
                    {"since": since})
        return fetch_as(cur, DayCount)


def top_routes(conn, days: int = 14, limit: int = 20) -> list[RouteCount]:
    since = datetime.now(UTC).date() - timedelta(days=days - 1)
    with conn.cursor() as cur:
        cur.execute(load_sql("matching_and_import_db.monitoring", "top_routes.sql"),
                    {"since": since, "limit": limit})
        return fetch_as(cur, RouteCount)
