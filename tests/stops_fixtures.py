"""Fixtures shared by the stops tests: the golden case published by real pipeline runs."""

from __future__ import annotations

import pytest

from tests.stops_helpers import publish_golden


@pytest.fixture
def golden(settings_env, db_conn, tmp_path) -> int:
    """The golden case's OSM stops and registry, published; the stops pipeline's id."""
    return publish_golden(settings_env, db_conn, tmp_path)
