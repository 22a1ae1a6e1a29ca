"""Browser fixtures: the app served on a free port in this process, and Debian's Chromium
driven by Playwright (never a downloaded browser)."""

from __future__ import annotations

import shutil
import threading

import pytest
from playwright.sync_api import sync_playwright
from werkzeug.serving import make_server

from tests.conftest import free_port, make_app

ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--use-angle=swiftshader",
        "--enable-unsafe-swiftshader"]


@pytest.fixture
def server(settings_env):
    port = free_port()
    app = make_app(settings_env, public_url=f"http://127.0.0.1:{port}")
    srv = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{port}"
    srv.shutdown()
    from app.extensions import db
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def browser():
    path = shutil.which("chromium") or "/usr/bin/chromium"
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=path, args=ARGS)
        yield b
        b.close()


