"""Fixtures and helpers shared by the ride tests: logged-in riders with API keys, uploads,
and processing with the scheduler's own code."""

from __future__ import annotations

import socket
from dataclasses import dataclass

import psycopg2
import pytest

from matching_and_import_db.tracks.processing import ProcessingConfig, process_pending
from tests.conftest import csrf_token, login


@dataclass
class Rider:
    client: object
    key: str
    sub: str

    def upload(self, data: bytes, filename: str = "ride.csv", public: bool | None = None):
        form = {"body": (_bytes_io(data), filename)}
        if public is not None:
            form["public"] = "1" if public else "0"
        return self.client.post("/api/tracks", data=form,
                                headers={"Authorization": f"OBSUserId {self.key}"},
                                content_type="multipart/form-data")

    def upload_id(self, data: bytes, filename: str = "ride.csv", public: bool | None = None
                  ) -> int:
        resp = self.upload(data, filename, public)
        assert resp.status_code in (200, 201), resp.get_json()
        return resp.get_json()["track"]["id"]

    def post_form(self, path: str, data: dict | None = None, page: str = "/"):
        return self.client.post(path, data={"csrf_token": csrf_token(self.client, page),
                                            **(data or {})})


def _bytes_io(data: bytes):
    import io
    return io.BytesIO(data)


def make_rider(app, oidc_provider, sub: str, roles=None) -> Rider:
    client = app.test_client()
    login(client, oidc_provider, sub, roles)
    page = client.post("/settings/api-key", data={"csrf_token": csrf_token(client)})
    assert page.status_code == 200
    key = page.data.decode().split('<pre id="api-key" class="key">')[1].split("<")[0]
    return Rider(client, key, sub)


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


def track_row(conn, track_id: int) -> dict:
    with conn.cursor() as cur:
        cur.execute("SELECT status, status_message, events_count, points_matched, public, "
                    "recorded_at, length_m FROM tracks WHERE id = %s", (track_id,))
        row = cur.fetchone()
    conn.commit()
    keys = ("status", "status_message", "events_count", "points_matched", "public",
            "recorded_at", "length_m")
    return dict(zip(keys, row, strict=True)) if row else None


def events_of(conn, track_id: int) -> list[dict]:
    """A ride's events in time order: time, way_id, direction, distance_left/right."""
    with conn.cursor() as cur:
        cur.execute("SELECT time, way_id, direction, distance_left, distance_right "
                    "FROM track_events WHERE track_id = %s ORDER BY time", (track_id,))
        keys = [d[0] for d in cur.description]
        rows = [dict(zip(keys, r, strict=True)) for r in cur.fetchall()]
    conn.commit()
    return rows
