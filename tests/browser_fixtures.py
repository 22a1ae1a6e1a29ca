"""Browser fixtures: the app served on a free port in this process, and Debian's Chromium
driven by Playwright (never a downloaded browser)."""

from __future__ import annotations

import shutil

import pytest
from playwright.sync_api import sync_playwright

from tests.browser_helpers import live_server

ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--use-angle=swiftshader",
        "--enable-unsafe-swiftshader"]


@pytest.fixture
def server(settings_env):
    with live_server(settings_env) as url:
        yield url


@pytest.fixture
def browser():
    path = shutil.which("chromium") or "/usr/bin/chromium"
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=path, args=ARGS)
        yield b
        b.close()
