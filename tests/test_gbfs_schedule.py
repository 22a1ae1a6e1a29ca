"""When GBFS files are fetched again, a 3.0 manifest, and how long history is kept."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from matching_and_import_db.live.gbfs import schedule, store
from tests.gbfs_helpers import GBFS, count, feed_row, poll

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(("last_updated_ago", "ttl", "due_in"), [
    (0, 60, 60),     # fresh data: due at last_updated + ttl
    (50, 60, 10),    # fetched late in its life: the rest of the ttl, not less than…
    (58, 60, 10),    # …the minimum interval
    (0, 0, 10),      # ttl 0: the minimum interval
    (60, 60, 1),     # due now and not renewed yet: again in a second…
    (64, 60, 4),     # …then after as long as it has been overdue…
    (600, 60, 10),   # …never more than the minimum interval (a source that stopped)
])
def test_a_file_is_due_at_last_updated_plus_ttl_never_sooner_than_the_minimum(
        last_updated_ago, ttl, due_in):
    due = schedule.next_due(NOW, NOW - timedelta(seconds=last_updated_ago), ttl, 10.0)
    assert due == NOW + timedelta(seconds=due_in)


def test_failures_back_off_exponentially_with_jitter():
    rng = random.Random(7)
    delays = {n: [(schedule.after_failure(NOW, n, 10.0, rng) - NOW).total_seconds()
                  for _ in range(200)] for n in (1, 2, 3, 10)}
    assert all(10 <= d <= 20 for d in delays[1])
    assert all(20 <= d <= 40 for d in delays[2])
    assert all(40 <= d <= 80 for d in delays[3])
    assert all(150 <= d <= schedule.MAX_BACKOFF_SECONDS for d in delays[10])
    assert len({round(d, 3) for d in delays[3]}) > 150  # spread: pollers do not retry in step


def test_a_3_0_manifest_leads_to_the_newest_version_of_its_system(replay, add_feed, db_conn,
                                                                 redis):
    text = (GBFS / "manifest_v3" / "manifest.json").read_text()
    text = text.replace('"https://berlin.example.com/gbfs/3.0"',
                        f'"{replay.url}/ridecheck_almere/gbfs.json"')
    text = text.replace('"https://berlin.example.com/gbfs/2.3"',
                        f'"{replay.url}/tier_wolfsburg_v2.3/gbfs.json"')
    replay.override("/manifest_v3/manifest.json", text.encode())
    add_feed("almere", f"{replay.url}/manifest_v3/manifest.json")
    poll(db_conn, redis, "almere")
    assert feed_row(db_conn, "almere")["stale"] is False
    assert feed_row(db_conn, "almere")["version"] == "3.0"
    assert count(db_conn, "gbfs_zones", "almere") > 0  # Almere's 3.0 feed, not Wolfsburg's
    assert count(db_conn, "gbfs_vehicles", "almere") == 6


def test_history_past_the_retention_goes_but_each_station_keeps_its_last_change(
        replay, add_feed, db_conn, redis):
    import json
    add_feed("lillestrom", f"{replay.url}/lillestrombysykkel/gbfs.json")
    poll(db_conn, redis, "lillestrom")
    stations = count(db_conn, "gbfs_station_history", "lillestrom")
    with db_conn.cursor() as cur:  # as if the first poll was 40 days ago
        cur.execute("UPDATE gbfs_station_history SET recorded_at = now() - interval '40 days'")
    db_conn.commit()
    doc = json.loads((GBFS / "lillestrombysykkel" / "station_status.json").read_bytes())
    doc["data"]["stations"][0]["num_bikes_available"] += 1
    replay.override("/lillestrombysykkel/station_status.json", json.dumps(doc).encode())
    poll(db_conn, redis, "lillestrom", later_s=3600)
    assert count(db_conn, "gbfs_station_history", "lillestrom") == stations + 1
    pruned = store.prune_history(db_conn, datetime.now(UTC) - timedelta(days=30))
    db_conn.commit()
    assert pruned == 1  # the changed station's old row; the others' are their last change
    assert count(db_conn, "gbfs_station_history", "lillestrom") == stations
