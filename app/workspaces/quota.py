"""Per-client quotas of datapoints (PORTAL_CLIENT_QUOTA, e.g. "1000000 per day"), counted
by flask-limiter's storage in Redis like every other limit: a batch costs its number of
valid items, and a batch that would pass the quota is refused whole (429) before any of it
is written."""

from __future__ import annotations

import logging

from flask import current_app
from limits import parse
from werkzeug.exceptions import TooManyRequests

from app.extensions import limiter

log = logging.getLogger(__name__)


def charge_datapoints(client_key: str, count: int) -> None:
    if count <= 0:
        return
    item = parse(current_app.config["PORTAL"].client_quota)
    try:
        allowed = limiter.limiter.hit(item, "datapoint-quota", client_key, cost=count)
    except Exception as exc:  # noqa: BLE001 - as RATELIMIT_SWALLOW_ERRORS: let it through
        log.warning("the datapoint quota could not be counted: %s", type(exc).__name__)
        return
    if not allowed:
        raise TooManyRequests(f"the quota of {item} datapoints is used up")
