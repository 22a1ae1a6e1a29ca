"""Local HTTP servers standing in for remote sources (a registry, an OSM extract, a WFS, a
CKAN portal): started on a free port in a daemon thread, quiet, and stopped with
`server.shutdown()`."""

from __future__ import annotations

import http.server
import threading
from functools import partial
from pathlib import Path


class QuietHandler(http.server.BaseHTTPRequestHandler):
    """A request handler that logs nothing and has one way to answer."""

    def log_message(self, *args):
        pass

    def answer(self, body: bytes, mimetype: str, status: int = 200) -> None:
        self.send_response(status)
        self.send_header("Content-Type", mimetype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def serve(handler) -> tuple[http.server.ThreadingHTTPServer, str]:
    """The server answering with `handler` (a handler class, or a factory of one), and its
    base URL."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_port}"


def serve_directory(directory: Path) -> tuple[http.server.ThreadingHTTPServer, str]:
    """The files of a directory as a plain web server serves them (404 for the rest)."""
    return serve(partial(http.server.SimpleHTTPRequestHandler, directory=str(directory)))
