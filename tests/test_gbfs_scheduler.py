"""GBFS polling in real scheduler processes: however many run, each feed has one poller at
a time (a Redis lock with a lease per feed), and the stations reach the live state."""

from __future__ import annotations

from dataclasses import replace

import psycopg2

from matching_and_import_db.live.gbfs import poller, publish
from tests.conftest import wait_until
from tests.gbfs_helpers import CONFIG, live_state

STATUS = "/lillestrombysykkel/station_status.json"


def test_two_schedulers_one_poller_per_feed(replay, add_feed, start_scheduler, redis):
    add_feed("lillestrom", f"{replay.url}/lillestrombysykkel/gbfs.json")
    # a slow operator: a second poller of the same feed would ask while the first waits
    replay.override(STATUS, (replay.root / STATUS.lstrip("/")).read_bytes(), delay=1.0)
    settings = {"PORTAL_GBFS_MIN_INTERVAL_SECONDS": "1", "PORTAL_GBFS_TIMEOUT_SECONDS": "5"}
    first, second = start_scheduler(**settings), start_scheduler(**settings)

    def status_requests() -> int:
        assert first.proc.poll() is None, first.log()
        assert second.proc.poll() is None, second.log()
        return sum(1 for path, _ in replay.requests if path == STATUS)

    wait_until(lambda: status_requests() >= 6, 120, 0.2, "six polls of the station status")
    assert replay.most_at_once[STATUS] == 1
    assert len(live_state(redis, publish.STATIONS)) == 6
    assert first.stop() == 0 and second.stop() == 0


def test_many_feeds_are_polled_side_by_side_within_the_per_host_limit(
        replay, add_feed, redis, settings_env):
    """Six feeds of one slow operator: their fetches overlap, never more than the per-host
    limit at once, on one database connection, and every feed reaches the live state."""
    slugs = [f"lillestrom-{i}" for i in range(6)]
    for slug in slugs:
        add_feed(slug, f"{replay.url}/lillestrombysykkel-{slug[-1]}/gbfs.json")
        status = f"/lillestrombysykkel-{slug[-1]}/station_status.json"
        replay.override(status, (replay.root / "lillestrombysykkel" /
                                 "station_status.json").read_bytes(), delay=0.5)
    config = replace(CONFIG, pollers=6, per_host=2, db_connections=1, timeout=5.0)

    def every_feed_published() -> bool:
        feeds = {fid.split(":", 1)[0] for fid in live_state(redis, publish.STATIONS)}
        return feeds == set(slugs)

    polls = poller.poll_due(lambda: psycopg2.connect(settings_env["PORTAL_DATABASE_URL"]),
                            redis, config, should_stop=every_feed_published)
    assert every_feed_published()
    assert polls >= len(slugs)
    assert replay.most_slow_at_once == 2  # side by side, never past the host's limit
