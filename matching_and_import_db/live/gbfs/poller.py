"""One poll of the feeds that are due: for each, under its own Redis lock (one poller per
feed however many scheduler processes run), fetch the files that are due with conditional
requests, validate them, publish what changed (PostGIS, then the live state in Redis) and
record when each file is due again.

Many feeds are polled at once (``pollers`` threads): their HTTP fetches overlap, at most
``per_host`` at a time to one host (many cities of one operator share a host). A poll holds
a database connection only to read its feed's files and, after the fetches, to write what
they brought in one transaction; the threads share ``db_connections`` connections, so the
fetches of a hundred feeds do not need a hundred connections. Feeds are taken most overdue
first, and a thread that finishes takes the next feed due at that moment, not at the next
tick: one slow feed never holds the others back.

A failed or invalid fetch changes nothing that is published: the file keeps its last good
data, the feed is marked stale with the reason (stations are announced again with the
flag), and the file is tried again after a backoff. No feed's failure reaches the others,
nor the worker.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

from redis.exceptions import LockError, RedisError

from matching_and_import_db.errors import InputError
from matching_and_import_db.live.gbfs import discovery, normalize, publish, schedule, store
from matching_and_import_db.live.gbfs.model import Feed, FeedFile
from matching_and_import_db.live.gbfs.validation import InvalidFile, check, parse_json
from matching_and_import_db.pipelines import sources
from matching_and_import_db.sqlfiles import load_sql

log = logging.getLogger(__name__)

ORDER = ("manifest", "gbfs", *discovery.FILES)
STATION_FILES = {"station_information", "station_status"}
# the files whose data is on the map: a failure of one of them makes the feed stale; the
# others' failures (system_information, pricing, ...) are shown as warnings
LIVE_FILES = ("station_information", "station_status", "free_bike_status", "vehicle_status",
              "geofencing_zones")
VEHICLE_FILES = {"free_bike_status", "vehicle_status", "vehicle_types"}
# one call of poll_due goes on taking the feeds as they come due (sleeping until the next
# is due) for this long, then returns and the scheduler's next tick calls it again: its
# job's log line and metrics come every few minutes
ROUND_SECONDS = 300.0
RETRY = timedelta(seconds=1)  # a feed held elsewhere, or whose poll failed: tried again then


@dataclass(frozen=True)
class PollConfig:
    sources: sources.SourcePolicy
    min_interval: float = 10.0
    timeout: float = 10.0
    max_bytes: int = 32 * 1024 * 1024
    # the feed lock's lease, extended after every file: a poller that dies mid-poll frees
    # its feeds within this time
    lease_seconds: int = 60
    pollers: int = 12  # feeds polled at once (threads)
    db_connections: int = 3  # database connections the poller threads share
    per_host: int = 8  # fetches at once to one host


def lock_name(slug: str) -> str:
    return f"lock:gbfs:{slug}"


class _Connections:
    """At most `size` database connections shared by the poller threads, opened on first
    use and closed by close(); a connection that broke is dropped, not handed out again."""

    def __init__(self, connect: Callable, size: int):
        self._connect = connect
        self._slots = threading.BoundedSemaphore(max(1, size))
        self._free: queue.LifoQueue = queue.LifoQueue()
        self._opened: list = []
        self._lock = threading.Lock()

    @contextlib.contextmanager
    def connection(self):
        with self._slots:
            try:
                conn = self._free.get_nowait()
            except queue.Empty:
                conn = self._connect()
                with self._lock:
                    self._opened.append(conn)
            try:
                yield conn
            finally:
                if not conn.closed:
                    try:
                        conn.rollback()  # nothing left open for the next poll
                    except Exception:
                        conn.close()
                if conn.closed:
                    with self._lock:
                        self._opened.remove(conn)
                else:
                    self._free.put(conn)

    def close(self) -> None:
        with self._lock:
            opened, self._opened = self._opened, []
        for conn in opened:
            conn.close()


class _HostLimits:
    """A semaphore of `per_host` slots for each host fetched from."""

    def __init__(self, per_host: int):
        self._per_host = max(1, per_host)
        self._hosts: dict[str, threading.BoundedSemaphore] = {}
        self._lock = threading.Lock()

    def of(self, url: str) -> threading.BoundedSemaphore:
        host = (urlsplit(url).hostname or "").lower()
        with self._lock:
            if host not in self._hosts:
                self._hosts[host] = threading.BoundedSemaphore(self._per_host)
            return self._hosts[host]


def poll_due(connect: Callable, redis, config: PollConfig,
             should_stop: Callable[[], bool] = lambda: False) -> int:
    """Poll the feeds as their files come due, `config.pollers` at a time, for
    ROUND_SECONDS (or until should_stop); returns how many polls this process made."""
    db = _Connections(connect, config.db_connections)
    hosts = _HostLimits(config.per_host)
    todo: list[Feed] = []
    in_hand: set[str] = set()  # being polled by a thread of this call
    # feeds tried lately -> when they may be taken again: one another process held (it
    # polls it meanwhile; asked again then, in case it died), or one whose poll failed
    # before it could say when it is due (never polled in a loop)
    not_before: dict[str, datetime] = {}
    taking = threading.Lock()  # todo, in_hand and not_before
    refilling = threading.Lock()  # one thread asks the database for what is due
    finished = threading.Event()  # a poll ended: the sleeping thread looks again
    ends = time.monotonic() + ROUND_SECONDS
    polled: list[str] = []
    redis_errors: list[RedisError] = []

    def take() -> Feed | None:  # under `taking`
        if not todo:
            return None
        feed = todo.pop()
        in_hand.add(feed.slug)
        return feed

    def next_feed() -> Feed | None:
        """The most overdue feed no thread has; when none is due, one thread sleeps until
        the next is, or a poll ends (at most a second, so that a feed just added is seen
        as soon as the scheduler's tick would), the others wait behind it. `taking` is
        never held while sleeping: the threads that finish a poll must be able to say so."""
        with refilling:
            while True:
                with taking:
                    if (feed := take()) is not None:
                        return feed
                if time.monotonic() >= ends or should_stop():
                    return None
                finished.clear()  # before reading: a poll that ends after it wakes us
                with db.connection() as conn:
                    feeds = store.feeds_by_due(conn)
                with taking:
                    now = datetime.now(UTC)
                    # when each feed not in hand may be polled: when due, and not within
                    # RETRY of a try that was held or failed
                    ready = [(f, max(due or now, not_before.get(f.slug, now)))
                             for f, due in feeds if f.slug not in in_hand]
                    todo.extend(reversed([f for f, at in ready if at <= now]))
                    if (feed := take()) is not None:
                        return feed
                    wake = min((at for _f, at in ready), default=None)
                wait = 1.0 if wake is None else (wake - now).total_seconds()
                finished.wait(min(1.0, max(0.01, wait), max(0.0, ends - time.monotonic())))

    def work() -> None:
        session = sources.guarded_session(config.sources)  # keep-alive to the operators
        try:
            while not should_stop() and not redis_errors:
                feed = next_feed()
                if feed is None:
                    return
                outcome = FAILED
                try:
                    outcome = _poll_locked(db.connection, redis, config, feed, session,
                                           hosts)
                finally:
                    with taking:
                        in_hand.discard(feed.slug)
                        if outcome == POLLED:  # its files' due times say when it is next
                            polled.append(feed.slug)
                        else:
                            not_before[feed.slug] = datetime.now(UTC) + RETRY
                    finished.set()
        except RedisError as exc:
            redis_errors.append(exc)
        except Exception:  # the database: this thread stops, the job logs it next tick
            log.exception("a GBFS poller thread stopped")
        finally:
            session.close()

    try:
        threads = [threading.Thread(target=work, name=f"gbfs-poller-{i}", daemon=True)
                   for i in range(max(1, config.pollers))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        db.close()
    if redis_errors:
        raise redis_errors[0]
    return len(polled)


POLLED, HELD, FAILED = "polled", "held by another process", "failed unexpectedly"


def _poll_locked(db, redis, config: PollConfig, feed: Feed, session=None,
                 hosts: _HostLimits | None = None) -> str:
    """Poll one feed under its lock (db: a context manager of a connection); returns
    POLLED, HELD (another process has the lock) or FAILED (logged; nothing written)."""
    lock = redis.lock(lock_name(feed.slug), timeout=config.lease_seconds, blocking=False)
    if not lock.acquire():
        return HELD  # another scheduler process polls this feed
    taken = time.monotonic()

    def keepalive() -> bool:
        # extended once a third of the lease has gone, not after every file: a round
        # trip saved per file, and the lease never runs short
        nonlocal taken
        if time.monotonic() - taken < config.lease_seconds / 3:
            return True
        taken = time.monotonic()
        return _extend(lock)

    outcome = FAILED
    try:
        _poll(db, redis, config, feed, keepalive, datetime.now(UTC), session, hosts)
        outcome = POLLED
    except RedisError:
        raise  # the job pauses until Redis is back (scheduler/jobs.py)
    except Exception as exc:
        # the stack without the message, as the pipeline runner logs it: a library's
        # message may quote what the feed sent
        log.error("polling GBFS feed %s failed unexpectedly (%s)\n%s", feed.slug,
                  type(exc).__name__, "".join(traceback.format_tb(exc.__traceback__)).rstrip())
    finally:
        try:
            lock.release()
        except (LockError, RedisError):  # expired while polling, or Redis went away
            pass
    return outcome


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
    # what the fetches write, with the publishing in one transaction: each file's state,
    # and the files gbfs.json still lists (None: it was not fetched)
    saves: list[tuple[FeedFile, datetime, bool]] = field(default_factory=list)
    listed: list[str] | None = None


def poll_feed(conn, redis, config: PollConfig, feed: Feed,
              keepalive: Callable[[], bool] = lambda: True,
              now: datetime | None = None, session=None) -> set[str]:
    """Fetch the feed's files due at `now` and publish what changed; returns the changed
    files."""
    return _poll(lambda: contextlib.nullcontext(conn), redis, config, feed, keepalive,
                 now or datetime.now(UTC), session, None)


def _poll(db, redis, config: PollConfig, feed: Feed, keepalive: Callable[[], bool],
          now: datetime, session, hosts: _HostLimits | None) -> set[str]:
    """poll_feed with a connection only for reading the files and for writing at the
    end, none while fetching."""
    with db() as conn:
        files = store.feed_files(conn, feed.slug)
        conn.rollback()
    poll = _Poll(feed, files, now)
    if not poll.files:
        poll.files[_root_name(feed)] = FeedFile(name=_root_name(feed), url=feed.url)
    while (f := _next_due(poll)) is not None:
        poll.tried.add(f.name)
        with hosts.of(f.url) if hosts else contextlib.nullcontext():
            _fetch_file(config, poll, f, session)
        if not keepalive():
            log.warning("GBFS feed %s: lost its lock mid-poll; nothing published", feed.slug)
            return set()
    with db() as conn:
        try:
            # everything written here comes again from the operator at the next poll: a
            # commit need not wait for the WAL to reach the disk (a crash of PostgreSQL
            # can lose the last fraction of a second of polls, never corrupt them)
            with conn.cursor() as cur:
                cur.execute(load_sql(__package__, "poll_transaction.sql"))
            if poll.listed is not None:
                store.drop_unlisted_files(conn, feed.slug, poll.listed)
            store.save_files(conn, feed.slug, poll.saves)
            publishing = _apply(conn, poll)
            conn.commit()
        except BaseException:
            conn.rollback()
            raise
    # Redis after the commit: the live state never shows what PostGIS does not hold
    publishing(redis)
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


def _save(poll: _Poll, f: FeedFile, fetched_at: datetime, data_changed: bool) -> None:
    """The file's new state, written with the rest of the poll; what it is then is what is
    written (a FeedFile is not changed after its fetch)."""
    poll.saves.append((f, fetched_at, data_changed))


def _fetch_file(config: PollConfig, poll: _Poll, f: FeedFile, session=None) -> None:
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
            _save(poll, f, now, data_changed=False)
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
        _save(poll, f, now, data_changed=False)
        log.warning("GBFS feed %s: %s", poll.feed.slug, f.error)
        return
    f.data, f.version, f.warnings = checked.data, checked.version, checked.warnings
    f.last_updated, f.ttl = checked.last_updated, checked.ttl
    f.etag, f.last_modified = answer.etag, answer.last_modified
    f.failures, f.error = 0, None
    f.next_due_at = schedule.next_due(now, f.last_updated, f.ttl, config.min_interval)
    _save(poll, f, now, data_changed=True)
    poll.changed.add(f.name)
    if f.name == "manifest":
        _follow_manifest(poll, f, doc)
    elif f.name == "gbfs":
        _list_files(poll, doc)


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


def _list_files(poll: _Poll, doc: dict) -> None:
    listed = discovery.feeds_of(doc, poll.feed.language)
    for name, url in listed.items():
        known = poll.files.get(name)
        if known is None or known.url != url:
            poll.files[name] = FeedFile(name=name, url=url)
    for name in [n for n in poll.files if n not in listed and n not in ("gbfs", "manifest")]:
        del poll.files[name]
    poll.listed = [*listed, "gbfs", "manifest"]


def _apply(conn, poll: _Poll) -> Callable:
    """Write the poll's stations, vehicles, zones and the feed's state (not committed);
    returns what publishes them to Redis once committed."""
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

    def publishing(redis) -> None:
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
    return publishing
