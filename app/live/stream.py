"""The live stream: Server-Sent Events of the live layers, served by an asyncio (aiohttp)
process of its own behind the same nginx as the app (``/api/live/stream``).

    python -m app.live.stream --port 5002

Why not the Flask app under gunicorn: a gthread worker gives every open response a
thread, so a few hundred idle maps would take every thread and starve normal requests.
Here an open stream is a coroutine and a queue (a few kilobytes), so one process holds
ten thousand of them while the app's workers stay free (bench/live measures both).

- ``GET /api/live/stream?layers=sensors,gbfs_stations`` answers ``text/event-stream``:
  first a ``snapshot`` event (every feature of the layers, from the state hashes), then a
  ``change`` event per change, each with the Redis stream entry's id as its SSE ``id``.
- A browser that reconnects sends ``Last-Event-ID``: it gets the changes it missed from
  the stream (``XRANGE``), or a fresh snapshot when they are no longer kept.
- One Redis reader per process (a blocking ``XREAD`` loop) fans every event out to all
  its clients; each event is encoded once, whatever the number of clients.
- A client that does not keep up (its queue full) is disconnected rather than buffered
  without end; its browser reconnects and resumes from its last id.

The live layers are public (like the GBFS feeds and sensor values they mirror): no login,
and nothing private ever goes into them.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import re
import time

import orjson
import redis.asyncio as aioredis
from aiohttp import web

from matching_and_import_db.live import events

log = logging.getLogger(__name__)

PATH = "/api/live/stream"
LAYERS = ("sensors", "gbfs_stations", "gbfs_vehicles", "gbfs_zones")  # all public
KEEPALIVE_SECONDS = 15  # an idle proxy or browser must not close a quiet stream
CLIENT_QUEUE = 1000  # events a client may lag behind before it is disconnected
READ_COUNT = 1000  # stream entries per XREAD
EVENT_ID = re.compile(r"^\d{1,20}-\d{1,20}$")
KEEPALIVE = b": keepalive\n\n"
RETRY = b"retry: 2000\n\n"  # the browser reconnects after 2 s


def _id_key(entry_id: str) -> tuple[int, int]:
    ms, _, seq = entry_id.partition("-")
    return int(ms), int(seq or 0)


def _text(value) -> str:
    return value.decode() if isinstance(value, bytes) else value


def encode_entry(entry_id: str, fields: dict) -> tuple[str, bytes]:
    """A stream entry as an SSE ``change`` event; returns (layer, bytes)."""
    layer = _text(fields[b"layer"])
    if b"feature" in fields:
        data = b'{"layer":' + orjson.dumps(layer) + b',"feature":' + fields[b"feature"] + b"}"
    else:
        data = orjson.dumps({"layer": layer, "removed": _text(fields[b"removed"])})
    return layer, b"id: " + entry_id.encode() + b"\nevent: change\ndata: " + data + b"\n\n"


class Client:
    __slots__ = ("layers", "queue", "sent", "dropped")

    def __init__(self, layers: frozenset[str]):
        self.layers = layers
        self.queue: asyncio.Queue = asyncio.Queue(CLIENT_QUEUE)
        self.sent: tuple[int, int] = (0, 0)  # the newest event id this client has
        self.dropped = False

    def push(self, key: tuple[int, int] | None, message: bytes) -> None:
        if self.dropped:
            return
        try:
            self.queue.put_nowait((key, message))
        except asyncio.QueueFull:
            self.dropped = True  # too slow: disconnected, it resumes by its last id
            self.queue.get_nowait()
            self.queue.put_nowait((None, None))


class Hub:
    """The one Redis reader of this process and the clients it feeds."""

    def __init__(self, redis, reader):
        self.redis = redis  # a bounded pool for the snapshots and catch-ups
        self.reader = reader  # the one connection that blocks in XREAD
        self.clients: set[Client] = set()
        self.read_errors = 0
        self.delivered = 0

    async def run(self) -> None:
        last = await self.newest_id()
        backoff = 0.5
        while True:
            try:
                reply = await self.reader.xread({events.EVENTS: last}, count=READ_COUNT,
                                               block=KEEPALIVE_SECONDS * 1000)
                backoff = 0.5
            except asyncio.CancelledError:
                raise
            except Exception:
                self.read_errors += 1
                log.warning("reading %s failed; retrying in %.1f s", events.EVENTS, backoff,
                            exc_info=True)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 10)
                continue
            for _stream, entries in reply or ():
                for raw_id, fields in entries:
                    last = _text(raw_id)
                    layer, message = encode_entry(last, fields)
                    key = _id_key(last)
                    for client in tuple(self.clients):
                        if layer in client.layers:
                            client.push(key, message)
                            self.delivered += 1

    async def keepalive(self) -> None:
        while True:
            await asyncio.sleep(KEEPALIVE_SECONDS)
            for client in tuple(self.clients):
                client.push(None, KEEPALIVE)

    async def newest_id(self) -> str:
        newest = await self.redis.xrevrange(events.EVENTS, count=1)
        return _text(newest[0][0]) if newest else "0-0"

    async def oldest_id(self) -> str | None:
        oldest = await self.redis.xrange(events.EVENTS, count=1)
        return _text(oldest[0][0]) if oldest else None


def parse_layers(raw: str | None) -> frozenset[str]:
    if not raw:
        return frozenset(LAYERS)
    asked = frozenset(p.strip() for p in raw.split(",") if p.strip())
    unknown = sorted(asked - set(LAYERS))
    if unknown or not asked:
        raise web.HTTPBadRequest(
            content_type="application/json",
            text=orjson.dumps({"error": {"code": "invalid_input", "message":
                               f"unknown live layer(s): {', '.join(unknown) or '(none)'}; "
                               f"known: {', '.join(LAYERS)}"}}).decode())
    return asked


async def stream(request: web.Request) -> web.StreamResponse:
    hub: Hub = request.app["hub"]
    layers = parse_layers(request.query.get("layers"))
    last_event_id = request.headers.get("Last-Event-ID", "").strip()
    resp = web.StreamResponse(headers={
        "Content-Type": "text/event-stream; charset=utf-8", "Cache-Control": "no-cache",
        "X-Accel-Buffering": "no",  # nginx passes each event on at once
        "X-Content-Type-Options": "nosniff"})
    await resp.prepare(request)
    client = Client(layers)
    hub.clients.add(client)  # from now on nothing is missed: queued while we catch up
    try:
        await resp.write(RETRY)
        if EVENT_ID.match(last_event_id) and await _resumable(hub, last_event_id):
            await _catch_up(hub, resp, client, last_event_id)
        else:
            await _snapshot(hub, resp, client)
        while not client.dropped:  # too slow: its browser reconnects and resumes
            # everything queued by now in one write: a poll that changed 300 stations is
            # one send to each client, not 300
            pending = [await client.queue.get()]
            while not client.queue.empty():
                pending.append(client.queue.get_nowait())
            out = []
            for key, message in pending:
                if key is not None:
                    if key <= client.sent:  # already in the snapshot or the catch-up
                        continue
                    client.sent = key
                if message is not None:
                    out.append(message)
            if out and not client.dropped:
                await resp.write(b"".join(out))
    except (ConnectionResetError, asyncio.CancelledError):
        pass
    except Exception:  # Redis gone: end this stream; the browser reconnects and resumes
        log.warning("a live stream ended on an error", exc_info=True)
    finally:
        hub.clients.discard(client)
    return resp


async def _resumable(hub: Hub, last_event_id: str) -> bool:
    """The stream still holds everything after last_event_id."""
    oldest = await hub.oldest_id()
    return oldest is not None and _id_key(oldest) <= _id_key(last_event_id)


async def _catch_up(hub: Hub, resp, client: Client, last_event_id: str) -> None:
    client.sent = _id_key(last_event_id)
    start = "(" + last_event_id
    while True:
        entries = await hub.redis.xrange(events.EVENTS, min=start, max="+", count=READ_COUNT)
        for raw_id, fields in entries:
            entry_id = _text(raw_id)
            layer, message = encode_entry(entry_id, fields)
            if layer in client.layers:
                await resp.write(message)
            client.sent = _id_key(entry_id)
        if len(entries) < READ_COUNT:
            return
        start = "(" + _text(entries[-1][0])


async def _snapshot(hub: Hub, resp, client: Client) -> None:
    # the id first, then the state: a change after the id is sent again (harmless, it is
    # the same state), none before it is missing (state and event are written together)
    newest = await hub.newest_id()
    parts = []
    for layer in sorted(client.layers):
        features = await hub.redis.hvals(events.state_key(layer))
        parts.append(orjson.dumps(layer) + b":[" + b",".join(features) + b"]")
    data = (b'{"at":' + orjson.dumps(time.time()) + b',"layers":{' + b",".join(parts) + b"}}")
    await resp.write(b"id: " + newest.encode() + b"\nevent: snapshot\ndata: " + data + b"\n\n")
    client.sent = _id_key(newest)


async def health(request: web.Request) -> web.Response:
    hub: Hub = request.app["hub"]
    return web.json_response({"status": "ok", "clients": len(hub.clients),
                              "delivered": hub.delivered, "read_errors": hub.read_errors})


def make_app(redis_url: str) -> web.Application:
    app = web.Application()

    async def start_hub(app):
        # thousands of browsers may connect at once: their snapshots wait for one of a few
        # connections rather than open one each
        pool = aioredis.BlockingConnectionPool.from_url(redis_url, max_connections=16,
                                                        timeout=30)
        app["redis"] = aioredis.Redis(connection_pool=pool)
        # XREAD blocks up to KEEPALIVE_SECONDS: the socket must wait longer than that
        app["reader"] = aioredis.Redis.from_url(redis_url, socket_keepalive=True,
                                                socket_timeout=KEEPALIVE_SECONDS + 10)
        app["hub"] = Hub(app["redis"], app["reader"])
        app["tasks"] = [asyncio.create_task(app["hub"].run()),
                        asyncio.create_task(app["hub"].keepalive())]

    async def stop_hub(app):
        for task in app["tasks"]:
            task.cancel()
        await app["redis"].aclose()
        await app["reader"].aclose()

    app.on_startup.append(start_hub)
    app.on_cleanup.append(stop_hub)
    app.router.add_get(PATH, stream)
    app.router.add_get(PATH + "/health", health)
    return app


def main() -> int:
    from matching_and_import_db.settings import Settings
    from matching_and_import_db.settings.logging_setup import configure_logging
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5002)
    args = parser.parse_args()
    settings = Settings.from_env()
    configure_logging(settings, role="stream")
    # many idle streams: the default soft limit of open files (often 1024) is far too low
    import resource
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    web.run_app(make_app(settings.redis_url), host=args.host, port=args.port,
                access_log=None, print=None, shutdown_timeout=5,
                backlog=4096)  # thousands of browsers reconnecting at once
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
