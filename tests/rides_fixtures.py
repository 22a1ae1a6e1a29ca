"""Fixtures shared by the ride tests: logged-in riders with API keys, and processing with
the scheduler's own code."""

from __future__ import annotations

import socket

import psycopg2
import pytest

from matching_and_import_db.rides.processing import ProcessingConfig, process_pending
from tests.ride_helpers import Rider, make_rider


@pytest.fixture
def rider(app, oidc_provider) -> Rider:
    return make_rider(app, oidc_provider, "rita")


@pytest.fixture
def other_rider(app, oidc_provider) -> Rider:
    return make_rider(app, oidc_provider, "otto")


@pytest.fixture
def process(settings_env):
    """Work the ride queue in this process, with the code the scheduler runs."""
    config = ProcessingConfig(data_dir=settings_env["PORTAL_DATA_DIR"], lease_seconds=60)

    def run(worker: str = f"test:{socket.gethostname()}") -> int:
        return process_pending(lambda: psycopg2.connect(settings_env["PORTAL_DATABASE_URL"]),
                               worker, config)
    return run
