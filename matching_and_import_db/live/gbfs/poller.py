"""One poll of the feeds that are due: for each, under its own Redis lock (one poller per
feed however many scheduler processes run), fetch the files that are due with conditional
requests, validate them, publish what changed (PostGIS, then the live state in Redis) and
record when each file is due again.

A failed or invalid fetch changes nothing that is published: the file keeps its last good
data, the feed is marked stale with the reason (stations are announced again with the
flag), and the file is tried again after a backoff. No feed's failure reaches the others,
nor the worker.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from redis.exceptions import LockError, RedisError

from matching_and_import_db.errors import InputError
from matching_and_import_db.live.gbfs import discovery, normalize, publish, schedule, store
from matching_and_import_db.live.gbfs.model import Feed, FeedFile
from matching_and_import_db.live.gbfs.validation import InvalidFile, check, parse_json
from matching_and_import_db.pipelines import sources

log = logging.getLogger(__name__)

ORDER = ("manifest", "gbfs", *discovery.FILES)
STATION_FILES = {"station_information", "station_status"}
# the files whose data is on the map: a failure of one of them makes the feed stale; the
# others' failures (system_information, pricing, ...) are shown as warnings
LIVE_FILES = ("station_information", "station_status", "free_bike_status", "vehicle_status",
              "geofencing_zones")
VEHICLE_FILES = {"free_bike_status", "vehicle_status", "vehicle_types"}


@dataclass(frozen=True)
class PollConfig:
    sources: sources.SourcePolicy
    min_interval: float = 10.0
    timeout: float = 10.0
    max_bytes: int = 32 * 1024 * 1024
    # the feed lock's lease, extended after every file: a poller that dies mid-poll frees
    # its feeds within this time
    lease_seconds: int = 60
    pollers: int = 2  # feeds polled at once, each with a database connection


def lock_name(slug: str) -> str:
    return f"lock:gbfs:{slug}"


def poll_due(connect: Callable, redis, config: PollConfig,
             should_stop: Callable[[], bool] = lambda: False) -> int:
    """Poll every feed that has a file due, `config.pollers` feeds at a time (each poller
    thread with a database connection of its own); returns how many feeds this process
    polled."""
    conn = connect()
    try:
        feeds = store.due_feeds(conn, datetime.now(UTC))
        conn.rollback()
    finally:
        conn.close()
    if not feeds:
        return 0
    todo = queue.SimpleQueue()
    for feed in feeds:
        todo.put(feed)
    polled: list[str] = []
    redis_errors: list[RedisError] = []

    def work() -> None:
        conn = connect()
        session = sources.guarded_session(config.sources)  # keep-alive to the operators
        try:
            while not should_stop() and not redis_errors:
                try:
                    feed = todo.get_nowait()
                except queue.Empty:
                    return
                if _poll_locked(conn, redis, config, feed, session):
                    polled.append(feed.slug)
        except RedisError as exc:
            redis_errors.append(exc)
        finally:
            session.close()
            conn.close()

    threads = [threading.Thread(target=work, name=f"gbfs-poller-{i}", daemon=True)
               for i in range(max(1, min(config.pollers, len(feeds))))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if redis_errors:
        raise redis_errors[0]
    return len(polled)


def _poll_locked(conn, redis, config: PollConfig, feed: Feed, session=None) -> bool:
    """Poll one feed under its lock; False when another process holds it."""
    lock = redis.lock(lock_name(feed.slug), timeout=config.lease_seconds, blocking=False)
    if not lock.acquire():
        return False  # another scheduler process polls this feed
    taken = time.monotonic()

    def keepalive() -> bool:
        # extended once a third of the lease has gone, not after every file: a round
        # trip saved per file, and the lease never runs short
        nonlocal taken
        if time.monotonic() - taken < config.lease_seconds / 3:
            return True
        taken = time.monotonic()
        return _extend(lock)

    try:
        poll_feed(conn, redis, config, feed, keepalive=keepalive, session=session)
    except RedisError:
        conn.rollback()
        raise  # the job pauses until Redis is back (scheduler/jobs.py)
    except Exception as exc:
        conn.rollback()
        # the stack without the message, as the pipeline runner logs it: a library's
        # message may quote what the feed sent
        log.error("polling GBFS feed %s failed unexpectedly (%s)\n%s", feed.slug,
                  type(exc).__name__, "".join(traceback.format_tb(exc.__traceback__)).rstrip())
    finally:
        try:
            lock.release()
        except (LockError, RedisError):  # expired while polling, or Redis went away
            pass
    return True


def _extend(lock) -> bool:
    try:
        lock.extend(lock.timeout, replace_ttl=True)
        return True
    except LockError:
        return False


@dataclass
class _Poll:
    feed: Feed
    files: dict[str, FeedFile]
    now: datetime
    changed: set[str] = field(default_factory=set)
    tried: set[str] = field(default_factory=set)


def poll_feed(conn, redis, config: PollConfig, feed: Feed,
              keepalive: Callable[[], bool] = lambda: True,
              now: datetime | None = None, session=None) -> set[str]:
    """Fetch the feed's files due at `now` and publish what changed; returns the changed
    files."""
    poll = _Poll(feed, store.feed_files(conn, feed.slug), now or datetime.now(UTC))
    if not poll.files:
        poll.files[_root_name(feed)] = FeedFile(name=_root_name(feed), url=feed.url)
    while (f := _next_due(poll)) is not None:
        poll.tried.add(f.name)
        _fetch_file(conn, config, poll, f, session)
        if not keepalive():
            conn.rollback()
            log.warning("GBFS feed %s: lost its lock mid-poll; nothing published", feed.slug)
            return set()
    _apply(conn, redis, poll)
    return poll.changed


def _root_name(feed: Feed) -> str:
    """What the feed's URL is taken to be before its content tells: a gbfs.json unless
    the URL names another file."""
    name = discovery.file_name(feed.url)
    return name if name in ORDER else "gbfs"


def _next_due(poll: _Poll) -> FeedFile | None:
    due = [f for f in poll.files.values() if f.name not in poll.tried
           and (f.next_due_at is None or f.next_due_at <= poll.now)]
    return min(due, key=lambda f: ORDER.index(f.name) if f.name in ORDER else 99,
               default=None)


def _declared_version(poll: _Poll) -> str | None:
    root = poll.files.get("gbfs")
    return root.version if root else None


def _fetch_file(conn, config: PollConfig, poll: _Poll, f: FeedFile, session=None) -> None:
    headers = dict(poll.feed.headers)
    if f.etag:
        headers["If-None-Match"] = f.etag
    if f.last_modified:
        headers["If-Modified-Since"] = f.last_modified
    if f.data is None:  # nothing good kept: a 304 would leave us with nothing
        headers.pop("If-None-Match", None)
        headers.pop("If-Modified-Since", None)
    now = datetime.now(UTC)
    try:
        answer = sources.fetch_document(config.sources, f.url, headers, config.timeout,
                                        config.max_bytes, session=session)
        if answer.status == 304:
            f.failures, f.error = 0, None
            f.next_due_at = schedule.next_due(now, f.last_updated, f.ttl, config.min_interval)
            store.save_file(conn, poll.feed.slug, f, now, data_changed=False)
            return
        doc = parse_json(f.name, answer.body)
        if f.name in ("gbfs", "manifest") or f.name not in ORDER:
            _discover(poll, f, doc)
        checked = check(f.name, doc, _declared_version(poll), now)
    except InputError as exc:
        text = str(exc)
        f.error = text if isinstance(exc, InvalidFile) else f"{f.name}: {text}"
        f.failures += 1
        f.next_due_at = schedule.after_failure(now, f.failures, config.min_interval)
        store.save_file(conn, poll.feed.slug, f, now, data_changed=False)
        log.warning("GBFS feed %s: %s", poll.feed.slug, f.error)
        return
    f.data, f.version, f.warnings = checked.data, checked.version, checked.warnings
    f.last_updated, f.ttl = checked.last_updated, checked.ttl
    f.etag, f.last_modified = answer.etag, answer.last_modified
    f.failures, f.error = 0, None
    f.next_due_at = schedule.next_due(now, f.last_updated, f.ttl, config.min_interval)
    store.save_file(conn, poll.feed.slug, f, now, data_changed=True)
    poll.changed.add(f.name)
    if f.name == "manifest":
        _follow_manifest(poll, f, doc)
    elif f.name == "gbfs":
        _list_files(conn, poll, doc)


def _discover(poll: _Poll, f: FeedFile, doc: dict) -> None:
    """The root URL's content says what it is; rename the file accordingly (the first poll
    of a feed only guesses from the URL)."""
    kind = discovery.kind_of(doc)
    actual = kind if kind != "file" else discovery.file_name(f.url)
    if kind == "file" and actual not in discovery.FILES:
        raise InvalidFile(f"{actual}: not a GBFS file we read (neither gbfs.json, "
                          "manifest.json nor one of " + ", ".join(discovery.FILES) + ")")
    if actual != f.name:
        poll.files.pop(f.name, None)
        f.name = actual
        poll.files[actual] = f
        poll.tried.add(actual)


def _follow_manifest(poll: _Poll, f: FeedFile, doc: dict) -> None:
    url = discovery.gbfs_of_manifest(doc)
    root = poll.files.get("gbfs")
    if root is None or root.url != url:
        poll.files["gbfs"] = FeedFile(name="gbfs", url=url)
        poll.tried.discard("gbfs")


def _list_files(conn, poll: _Poll, doc: dict) -> None:
    listed = discovery.feeds_of(doc, poll.feed.language)
    for name, url in listed.items():
        known = poll.files.get(name)
        if known is None or known.url != url:
            poll.files[name] = FeedFile(name=name, url=url)
    for name in [n for n in poll.files if n not in listed and n not in ("gbfs", "manifest")]:
        del poll.files[name]
    store.drop_unlisted_files(conn, poll.feed.slug, [*listed, "gbfs", "manifest"])


def _apply(conn, redis, poll: _Poll) -> None:
    slug, files = poll.feed.slug, poll.files
    data = {name: f.data for name, f in files.items()}
    errors = [files[n].error for n in LIVE_FILES if n in files and files[n].error]
    if not any(n in files for n in LIVE_FILES):  # discovery itself failed: nothing to show
        errors = [f.error for f in files.values() if f.error]
    stale, reason = bool(errors), (errors[0] if errors else None)
    warnings = [f"refused {f.error}" for n, f in files.items()
                if f.error and n not in LIVE_FILES and f.error not in errors]
    warnings += [w for n in ORDER if n in files for w in (files[n].warnings or [])]
    language = poll.feed.language
    stations = normalize.stations(data.get("station_information"),
                                  data.get("station_status"), language, warnings)
    station_files_changed = bool(poll.changed & STATION_FILES)
    removed_stations: list[str] = []
    if station_files_changed:
        _, removed_stations = store.write_stations(conn, slug, stations, poll.now)
    vehicles = zones = None
    removed_vehicles: list[str] = []
    removed_zones: list[int] = []
    if poll.changed & VEHICLE_FILES:
        vehicles = normalize.vehicles(data.get("vehicle_status") or
                                      data.get("free_bike_status"), data.get("vehicle_types"))
        removed_vehicles = store.replace_vehicles(conn, slug, vehicles)
    if "geofencing_zones" in poll.changed:
        zones = normalize.zones(data.get("geofencing_zones"), language)
        removed_zones = store.replace_zones(conn, slug, zones)
    system = data.get("system_information") or {}
    version = next((files[n].version for n in ORDER if n in files and files[n].version), None)
    store.set_feed_status(conn, slug, stale=stale, reason=reason, warnings=warnings[:50],
                          version=version, system_name=normalize.localized_text(system.get("name"),
                                                                      language),
                          success=bool(poll.changed) or not stale, now=poll.now)
    conn.commit()
    # Redis after the commit: the live state never shows what PostGIS does not hold
    publish.publish_differences(
        redis, publish.STATIONS,
        [publish.station_feature(slug, s, stale, reason) for s in stations],
        [f"{slug}:{sid}" for sid in removed_stations])
    if vehicles is not None:
        publish.publish_differences(redis, publish.VEHICLES,
                                    [publish.vehicle_feature(slug, v) for v in vehicles],
                                    [f"{slug}:{vid}" for vid in removed_vehicles])
    if zones is not None:
        publish.publish_differences(redis, publish.ZONES,
                                    [publish.zone_feature(slug, z) for z in zones],
                                    [f"{slug}:{i}" for i in removed_zones])
