"""Pipeline schedules: a crontab line ("0 3 * * *") or "@every 30s" / "@every 10m" / "@every 2h".

APScheduler's triggers compute the fire times, so every scheduler process computes the same
slots, and a slot becomes at most one run (unique index on pipeline and slot time).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from matching_and_import_db.errors import InputError

_EVERY = re.compile(r"^@every\s+(\d+)\s*([smh])$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600}
# Interval slots are anchored here, not at process start, so all processes agree on them.
_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
# A slot missed by more than this (scheduler down) is not made up, only the latest one is.
MISFIRE_GRACE = timedelta(hours=1)


def parse_schedule(spec: str) -> BaseTrigger:
    spec = spec.strip()
    match = _EVERY.match(spec)
    if match:
        seconds = int(match.group(1)) * _UNIT_SECONDS[match.group(2)]
        if seconds < 1:
            raise InputError(f"schedule {spec!r}: the interval must be at least 1 second")
        return IntervalTrigger(seconds=seconds, start_date=_EPOCH, timezone=UTC)
    try:
        return CronTrigger.from_crontab(spec, timezone=UTC)
    except ValueError as exc:
        raise InputError(
            f"schedule {spec!r} is neither a crontab line (5 fields) nor '@every N[s|m|h]': {exc}"
        ) from None


def latest_due_slot(spec: str, last_slot: datetime | None, now: datetime) -> datetime | None:
    """The newest fire time in (last_slot, now], or None when nothing is due.

    Missed slots are coalesced into the newest one, like APScheduler's coalesce=True.
    """
    trigger = parse_schedule(spec)
    start = max(last_slot, now - MISFIRE_GRACE) if last_slot else now - MISFIRE_GRACE
    due = None
    fire = trigger.get_next_fire_time(None, start)
    while fire is not None and fire <= now:
        if last_slot is None or fire > last_slot:
            due = fire
        fire = trigger.get_next_fire_time(fire, now)
    return due


def next_slot(spec: str, now: datetime) -> datetime | None:
    return parse_schedule(spec).get_next_fire_time(None, now)
