"""GBFS times: POSIX seconds before 3.0, RFC 3339 text from 3.0 on."""

from __future__ import annotations

from datetime import UTC, datetime


def parse_time(value) -> datetime | None:
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value, UTC)
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.strip())
        except ValueError:
            return None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return None


def iso(value: datetime | None) -> str | None:
    """ISO 8601 UTC with a Z, as the live contract carries times."""
    if value is None:
        return None
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
