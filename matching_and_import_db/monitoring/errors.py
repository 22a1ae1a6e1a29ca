"""Recent errors of every process, in one capped Redis stream.

Each process's logging setup adds a RecentErrorsHandler: an ERROR (or worse) record becomes
a small entry (time, process role and name, logger, message, request id, exception type)
put on an in-memory queue and written to Redis by a thread of the handler, so logging never
waits for Redis: while Redis is away entries are dropped (the process's own log still has
them), and a full queue drops the newest. Never a request body, a traceback's values or a
secret: the message is what the code logged, with the process's secret settings blanked.

Beside the stream, a counter per minute (kept two hours) counts every error, so the rate
over the last hour is exact even when the stream's cap has dropped old entries.
"""

from __future__ import annotations

import logging
import os
import queue
import socket
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass

import redis as redis_lib  # here, not in the writer: imports at interpreter exit fail

STREAM = "monitoring:errors"
MINUTE_PREFIX = "monitoring:errors:minute:"
STREAM_MAX = 2000          # entries kept (approximately: XADD MAXLEN ~)
MINUTE_KEEP_SECONDS = 2 * 3600
MESSAGE_MAX = 500          # characters of a message kept
QUEUE_MAX = 1000           # entries waiting for the writer before new ones are dropped
RETRY_SECONDS = 2.0        # after Redis failed, entries are dropped for this long

# The rate-jump rule (README "Recent errors"): the last RECENT_MINUTES (this minute
# included) against the BASELINE_MINUTES before them, as errors per minute.
RECENT_MINUTES = 5
BASELINE_MINUTES = 60
JUMP_FACTOR = 3.0
JUMP_MIN_ERRORS = 5


@dataclass(frozen=True)
class ErrorEntry:
    at: float
    role: str
    process: str
    logger: str
    message: str
    request_id: str | None = None
    exception: str | None = None

    def fields(self) -> dict[str, str]:
        return {k: str(v) for k, v in self.__dict__.items() if v is not None}

    @classmethod
    def of_fields(cls, fields: dict[bytes, bytes]) -> ErrorEntry:
        data = {k.decode(): v.decode(errors="replace") for k, v in fields.items()}
        return cls(at=float(data.pop("at")), **{k: data.get(k) for k in
                                                ("role", "process", "logger", "message",
                                                 "request_id", "exception")})


def redact(text: str, secrets: Iterable[str]) -> str:
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, "***")
    return text


def entry_of(record: logging.LogRecord, role: str, secrets: Iterable[str]) -> ErrorEntry:
    try:
        message = record.getMessage()
    except Exception:  # a bad format string must not lose the error
        message = str(record.msg)
    exc = record.exc_info[0].__name__ if record.exc_info and record.exc_info[0] else None
    return ErrorEntry(at=record.created, role=role,
                      process=f"{socket.gethostname()}:{os.getpid()}", logger=record.name,
                      message=redact(message, secrets)[:MESSAGE_MAX],
                      request_id=getattr(record, "request_id", None) or None, exception=exc)


def write_entries(redis, entries: list[ErrorEntry]) -> None:
    pipe = redis.pipeline(transaction=False)
    for entry in entries:
        pipe.xadd(STREAM, entry.fields(), maxlen=STREAM_MAX, approximate=True)
        key = MINUTE_PREFIX + str(int(entry.at // 60))
        pipe.incr(key)
        pipe.expire(key, MINUTE_KEEP_SECONDS)
    pipe.execute()


class RecentErrorsHandler(logging.Handler):
    """Puts ERROR records into the Redis stream without ever blocking the logger."""

    def __init__(self, redis_url: str, role: str, secrets: Iterable[str] = ()):
        super().__init__(level=logging.ERROR)
        self.redis_url, self.role = redis_url, role
        self.secrets = tuple(secrets)
        self.dropped = 0
        self._pid: int | None = None
        self._queue: queue.Queue = queue.Queue(QUEUE_MAX)
        self._writer: threading.Thread | None = None
        self._start_lock = threading.Lock()

    def emit(self, record: logging.LogRecord) -> None:
        if threading.current_thread() is self._writer or record.name.startswith("redis"):
            return  # the writer's own trouble is not collected through itself
        try:
            self._ensure_writer()
            self._queue.put_nowait(entry_of(record, self.role, self.secrets))
        except queue.Full:
            self.dropped += 1
        except Exception:
            self.handleError(record)

    def _ensure_writer(self) -> None:
        if self._pid == os.getpid():
            return
        with self._start_lock:  # first error in this process (or after a fork)
            if self._pid == os.getpid():
                return
            self._queue = queue.Queue(QUEUE_MAX)
            self._writer = threading.Thread(target=self._write_forever, daemon=True,
                                            name="recent-errors")
            self._writer.start()
            self._pid = os.getpid()

    def _write_forever(self) -> None:
        client = redis_lib.Redis.from_url(self.redis_url, socket_timeout=1,
                                          socket_connect_timeout=1)
        failed_at = 0.0
        while True:
            entry = self._queue.get()
            if entry is None:
                return
            batch = [entry]
            while len(batch) < 100:
                try:
                    more = self._queue.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    self._queue.put_nowait(None)
                    break
                batch.append(more)
            if time.monotonic() - failed_at < RETRY_SECONDS:
                self.dropped += len(batch)
                continue
            try:
                write_entries(client, batch)
            except Exception:  # Redis away: drop, the process's own log has them
                self.dropped += len(batch)
                failed_at = time.monotonic()

    def close(self) -> None:
        """At exit: what is queued is written (for at most a few seconds)."""
        writer = self._writer
        if writer is not None and writer.is_alive() and self._pid == os.getpid():
            try:
                self._queue.put(None, timeout=1)
            except queue.Full:
                pass
            writer.join(timeout=3)
        super().close()


# --- reading -------------------------------------------------------------------------------

def newest_errors(redis, limit: int = 50) -> list[ErrorEntry]:
    return [ErrorEntry.of_fields(fields) for _id, fields in redis.xrevrange(STREAM, count=limit)]


def errors_per_minute(redis, now: float, minutes: int = RECENT_MINUTES + BASELINE_MINUTES
                      ) -> list[tuple[int, int]]:
    """(minute start as epoch seconds, errors) for the last `minutes` minutes, oldest first,
    this minute included."""
    current = int(now // 60)
    starts = list(range(current - minutes + 1, current + 1))
    values = redis.mget([MINUTE_PREFIX + str(m) for m in starts])
    return [(m * 60, int(v or 0)) for m, v in zip(starts, values, strict=True)]


@dataclass(frozen=True)
class ErrorRate:
    recent: int              # errors in the last RECENT_MINUTES
    baseline: int            # errors in the BASELINE_MINUTES before them
    recent_per_minute: float
    baseline_per_minute: float
    jump: bool


def error_rate(per_minute: list[tuple[int, int]]) -> ErrorRate:
    """The rate-jump rule over counts per minute (oldest first, this minute last): a jump
    is at least JUMP_MIN_ERRORS errors in the last RECENT_MINUTES at a rate per minute at
    least JUMP_FACTOR times that of the BASELINE_MINUTES before (an hour without errors
    makes any JUMP_MIN_ERRORS in five minutes a jump)."""
    counts = [n for _, n in per_minute]
    recent = sum(counts[-RECENT_MINUTES:])
    baseline = sum(counts[-(RECENT_MINUTES + BASELINE_MINUTES):-RECENT_MINUTES])
    recent_rate = recent / RECENT_MINUTES
    baseline_rate = baseline / BASELINE_MINUTES
    jump = recent >= JUMP_MIN_ERRORS and recent_rate >= JUMP_FACTOR * baseline_rate
    return ErrorRate(recent, baseline, round(recent_rate, 2), round(baseline_rate, 2), jump)
