"""GBFS polling in real scheduler processes: however many run, each feed has one poller at
a time (a Redis lock with a lease per feed), and the stations reach the live state."""

from __future__ import annotations

from matching_and_import_db.live.gbfs import publish
from tests.conftest import wait_until
from tests.gbfs_helpers import live_state

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
