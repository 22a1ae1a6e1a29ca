"""GBFS fixtures (registered in conftest.pytest_plugins): the local replay server serving
the recorded feeds of tests/fixtures/gbfs, and adding a feed as the pipelines page does."""

from __future__ import annotations

import pytest

from demo.gbfs_replay import ReplayServer
from tests.gbfs_helpers import GBFS


@pytest.fixture
def replay():
    server = ReplayServer(GBFS).start()
    yield server
    server.stop()


@pytest.fixture
def add_feed(app):
    def add(slug: str, url: str, headers: dict | None = None, language: str | None = None):
        from app.live import gbfs_service
        with app.app_context():
            gbfs_service.create_feed(slug, url, headers, language)
    return add
