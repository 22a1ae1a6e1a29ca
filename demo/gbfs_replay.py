#!/usr/bin/env python3
"""A small local GBFS server over recorded feeds: the demo's Oslo city bikes, the tests'
recorded feeds and the polling bench's 200 feeds.

Serves ROOT/<feed>/<file>.json at /<feed>/<file>.json, with ETag and Last-Modified (and 304
to a request that has them). The `url` of every file a gbfs.json lists is answered with
this server's address and the file's name (recorded gbfs.json files point at their
original hosts); a folder without a gbfs.json gets one listing its files.

Replay (--step S): a folder with several `station_status_*.json` snapshots serves them in
turn, S seconds each, with `last_updated` (and each station's `last_reported`) moved to the
moment that snapshot came up, as a live operator's feed would. Any /<feed>-<n>/ path serves
a copy of <feed> whose station ids end in "~<n>" (the bench polls 200 copies of one
recorded feed).

    python demo/gbfs_replay.py --root demo/gbfs --port 8765 --step 15
"""

from __future__ import annotations

import argparse
import email.utils
import hashlib
import http.server
import json
import re
import threading
import time
from pathlib import Path

COPY = re.compile(r"^(?P<base>.+)-\d+$")
STATION_ID = re.compile(rb'("station_id":\s*"[^"]*)"')


class ReplayServer:
    def __init__(self, root: Path, host: str = "127.0.0.1", port: int = 0,
                 step: float | None = None, ttl: int | None = None):
        self.root = Path(root)
        self.step = step
        self.ttl = ttl
        # a whole second: last_updated (whole seconds) is then exactly when a snapshot came
        # up, and last_updated + ttl exactly when the next one does
        self.started = float(int(time.time()))
        self.overrides: dict[str, tuple[int, bytes, float, str]] = {}
        self._bodies: dict[tuple[str, str, int], tuple[bytes | None, float]] = {}
        self.requests: list[tuple[str, dict]] = []  # (path, request headers)
        self.active: dict[str, int] = {}  # requests being answered, per path
        self.most_at_once: dict[str, int] = {}
        self.slow = 0  # answers of a slow override (delay) being waited out, any path
        self.most_slow_at_once = 0
        self._lock = threading.Lock()
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self):  # noqa: N802 (http.server's name)
                server._answer(self)

            def log_message(self, *args):  # quiet: tests and the bench make thousands
                pass

        self.httpd = http.server.ThreadingHTTPServer((host, port), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://{host}:{self.httpd.server_address[1]}"
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def start(self) -> ReplayServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def override(self, path: str, body: bytes, status: int = 200, delay: float = 0.0,
                 content_type: str = "application/json") -> None:
        """Answer path with this instead (a broken feed for the tests)."""
        with self._lock:
            self.overrides[path] = (status, body, delay, content_type)

    def clear(self, path: str) -> None:
        with self._lock:
            self.overrides.pop(path, None)

    # --- answering -----------------------------------------------------------------

    def _answer(self, h: http.server.BaseHTTPRequestHandler) -> None:
        path = h.path.split("?", 1)[0]
        with self._lock:
            self.requests.append((path, dict(h.headers)))
            self.active[path] = self.active.get(path, 0) + 1
            self.most_at_once[path] = max(self.most_at_once.get(path, 0), self.active[path])
        try:
            self._answer_path(h, path)
        finally:
            with self._lock:
                self.active[path] -= 1

    def _answer_path(self, h: http.server.BaseHTTPRequestHandler, path: str) -> None:
        with self._lock:
            override = self.overrides.get(path)
        if override:
            status, body, delay, ctype = override
            if delay:  # a server that does not answer in time
                with self._lock:
                    self.slow += 1
                    self.most_slow_at_once = max(self.most_slow_at_once, self.slow)
                time.sleep(delay)
                with self._lock:  # before answering: the client still waits for it
                    self.slow -= 1
            return self._send(h, status, body, ctype, None)
        parts = path.strip("/").split("/")
        if len(parts) != 2 or not parts[1].endswith(".json"):
            return self._send(h, 404, b"not found", "text/plain", None)
        feed, name = parts[0], parts[1].removesuffix(".json")
        folder = self._folder(feed)
        if folder is None:
            return self._send(h, 404, b"not found", "text/plain", None)
        body, modified = self._cached(folder, feed, name)
        if body is None:
            return self._send(h, 404, b"not found", "text/plain", None)
        etag = '"' + hashlib.sha1(body).hexdigest()[:20] + '"'
        if h.headers.get("If-None-Match") == etag:
            return self._send(h, 304, b"", None, etag, modified)
        self._send(h, 200, body, "application/json", etag, modified)

    def _folder(self, feed: str) -> Path | None:
        for name in (feed, (COPY.match(feed) or {"base": None})["base"]):
            if name and (self.root / name).is_dir() and "/" not in name and name[0] != ".":
                return self.root / name
        return None

    def _document(self, folder: Path, feed: str, name: str) -> tuple[bytes | None, float]:
        if name == "gbfs":
            return self._gbfs(folder, feed), self.started
        series = sorted(folder.glob(f"{name}_*.json"))
        path = folder / f"{name}.json"
        if self.step and series:
            index = int((time.time() - self.started) // self.step)
            came_up = self.started + index * self.step
            doc = json.loads(series[index % len(series)].read_bytes())
            return self._restamp(doc, came_up), came_up
        if not path.is_file():
            if not series:
                return None, 0.0
            path = series[-1]
        if self.step:  # replaying: static files are as new as the replay
            return self._restamp(json.loads(path.read_bytes()), self.started), self.started
        return path.read_bytes(), path.stat().st_mtime

    def _cached(self, folder: Path, feed: str, name: str) -> tuple[bytes | None, float]:
        """What _document makes, made once per replay step (200 copies of a feed asking
        within one step cost one encoding each, not a parse and two encodings)."""
        step = int((time.time() - self.started) // self.step) if self.step else 0
        key = (feed, name, step)
        with self._lock:
            if key in self._bodies:
                return self._bodies[key]
        base = (folder.name, name, step)
        with self._lock:
            made = self._bodies.get(base)
        if made is None or name == "gbfs":
            made = self._document(folder, feed, name)
        if feed != folder.name and name != "gbfs" and made[0] is not None:
            made = (self._distinct(made[0], feed.rsplit("-", 1)[1]), made[1])
        with self._lock:
            if len(self._bodies) > 4096:
                self._bodies.clear()
            self._bodies[key] = made
        return made

    @staticmethod
    def _distinct(body: bytes, copy: str) -> bytes:
        """A copy's stations have ids of their own ("<id>~<n>"), so that 200 copies are
        200 feeds to the poller, not one feed 200 times."""
        return STATION_ID.sub(lambda m: m.group(1) + f"~{copy}".encode() + b'"', body)

    def _restamp(self, doc: dict, at: float) -> bytes:
        recorded = doc.get("last_updated")
        if isinstance(recorded, int):
            shift = int(at) - recorded
            doc["last_updated"] = int(at)
            for station in doc.get("data", {}).get("stations", []):
                if isinstance(station.get("last_reported"), int):
                    station["last_reported"] += shift
        if self.ttl is not None:
            doc["ttl"] = self.ttl
        return json.dumps(doc).encode()

    def _gbfs(self, folder: Path, feed: str) -> bytes:
        base = f"{self.url}/{feed}/"
        path = folder / "gbfs.json"
        if path.is_file():
            doc = json.loads(path.read_bytes())
            data = doc.get("data", {})
            lists = [data["feeds"]] if "feeds" in data else [v.get("feeds", [])
                                                              for v in data.values()]
            for feeds in lists:
                for f in feeds:
                    f["url"] = base + f["url"].rsplit("/", 1)[-1]
            return json.dumps(doc).encode()
        names = sorted({p.stem.split("_2")[0] if re.search(r"_\d{4}", p.stem) else p.stem
                        for p in folder.glob("*.json")})
        doc = {"last_updated": int(self.started), "ttl": 3600, "version": "2.2",
               "data": {"en": {"feeds": [{"name": n, "url": f"{base}{n}.json"}
                                         for n in names]}}}
        return json.dumps(doc).encode()

    @staticmethod
    def _send(h, status: int, body: bytes, ctype: str | None, etag: str | None,
              modified: float | None = None) -> None:
        try:
            h.send_response(status)
            if ctype:
                h.send_header("Content-Type", ctype)
            if etag:
                h.send_header("ETag", etag)
            if modified:
                h.send_header("Last-Modified", email.utils.formatdate(modified, usegmt=True))
            h.send_header("Content-Length", str(len(body)))
            h.end_headers()
            if body:
                h.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):  # the poller gave up (timeout)
            pass


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", default=str(Path(__file__).parent / "gbfs"))
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--step", type=float, default=15.0,
                        help="seconds each recorded status snapshot is served")
    args = parser.parse_args()
    server = ReplayServer(Path(args.root), args.host, args.port, step=args.step)
    print(f"GBFS replay of {args.root} on {server.url} (a snapshot every {args.step}s)",
          flush=True)
    try:
        server.httpd.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
