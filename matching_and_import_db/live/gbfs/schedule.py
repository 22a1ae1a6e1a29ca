"""When a file is fetched again: once its data is due (last_updated + ttl), never sooner
than the minimum interval (ttl 0, or fresh data fetched late in its life); data that is
already overdue at the source (its next version is late) is asked for again soon, after as
long as it is overdue (at least a second, at most the minimum interval): an operator's
update a second late is caught a second later, not a whole interval later, and a source
that stopped updating is asked every minimum interval (conditional requests: a 304 each).
After failures, exponential backoff with full jitter so that many pollers of one broken
host do not retry in step."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

MAX_BACKOFF_SECONDS = 300.0
OVERDUE_FIRST_RETRY_SECONDS = 1.0


def next_due(now: datetime, last_updated: datetime | None, ttl: int | None,
             min_interval: float) -> datetime:
    earliest = now + timedelta(seconds=min_interval)
    if last_updated is None or not ttl:
        return earliest
    due = last_updated + timedelta(seconds=ttl)
    overdue = (now - due).total_seconds()
    if overdue >= 0:  # the source is late: again after as long as it has been late
        return now + timedelta(seconds=min(min_interval,
                                           max(OVERDUE_FIRST_RETRY_SECONDS, overdue)))
    return max(earliest, due)


def after_failure(now: datetime, failures: int, min_interval: float,
                  rng: random.Random | None = None) -> datetime:
    """failures counts this one too (1 after the first)."""
    ceiling = min(MAX_BACKOFF_SECONDS, min_interval * 2 ** min(failures, 16))
    delay = max(min_interval, (rng or random).uniform(ceiling / 2, ceiling))
    return now + timedelta(seconds=delay)
