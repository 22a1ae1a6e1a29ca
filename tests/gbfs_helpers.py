"""GBFS test helpers: the local replay server over the recorded feeds, adding a feed as an
operator would, and polling in this process as the scheduler's job does."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import orjson
from psycopg2 import sql

from matching_and_import_db.live import events
from matching_and_import_db.live.gbfs import poller, store
from matching_and_import_db.pipelines.sources import SourcePolicy
from tests.conftest import FIXTURES

GBFS = FIXTURES / "gbfs"
CONFIG = poller.PollConfig(sources=SourcePolicy(allowed_hosts=frozenset({"127.0.0.1"})),
                           min_interval=1.0, timeout=1.0)


def poll(db_conn, redis, slug: str, later_s: float = 0, config=CONFIG) -> set[str]:
    """Poll the feed as the scheduler would, as if `later_s` seconds had passed (so that
    what is due then is fetched now)."""
    feed = store.feed_by_slug(db_conn, slug)
    return poller.poll_feed(db_conn, redis, config, feed,
                            now=datetime.now(UTC) + timedelta(seconds=later_s))


def live_state(redis, layer: str) -> dict[str, dict]:
    return {k.decode(): orjson.loads(v) for k, v in redis.hgetall(events.state_key(layer)).items()}


def stream_length(redis) -> int:
    return redis.xlen(events.EVENTS)


def feed_row(db_conn, slug: str) -> dict:
    with db_conn.cursor() as cur:
        cur.execute("SELECT stale, stale_reason, warnings, version FROM gbfs_feeds "
                    "WHERE slug = %s", (slug,))
        stale, reason, warnings, version = cur.fetchone()
    db_conn.rollback()
    return {"stale": stale, "stale_reason": reason, "warnings": warnings, "version": version}


def count(db_conn, table: str, slug: str) -> int:
    with db_conn.cursor() as cur:
        cur.execute(sql.SQL("SELECT count(*) FROM {} WHERE feed = %s").format(
            sql.Identifier(table)), (slug,))
        n = cur.fetchone()[0]
    db_conn.rollback()
    return n


def recorded(folder: str, name: str) -> dict:
    return json.loads((GBFS / folder / f"{name}.json").read_bytes())
