"""When a file is fetched again: once its data is due (last_updated + ttl), never sooner
than the minimum interval (ttl 0, or data already overdue); after failures, exponential
backoff with full jitter so that many pollers of one broken host do not retry in step."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

MAX_BACKOFF_SECONDS = 300.0


def next_due(now: datetime, last_updated: datetime | None, ttl: int | None,
             min_interval: float) -> datetime:
    earliest = now + timedelta(seconds=min_interval)
    if last_updated is None or not ttl:
        return earliest
    return max(earliest, last_updated + timedelta(seconds=ttl))


def after_failure(now: datetime, failures: int, min_interval: float,
                  rng: random.Random | None = None) -> datetime:
    """failures counts this one too (1 after the first)."""
    ceiling = min(MAX_BACKOFF_SECONDS, min_interval * 2 ** min(failures, 16))
    delay = max(min_interval, (rng or random).uniform(ceiling / 2, ceiling))
    return now + timedelta(seconds=delay)
