"""A small portal with one of everything the routes name, for the authorization matrix:
a rider (the owner) with a private and a public processed ride and a privacy zone, another
user, an operator and an admin (each logged in through the real OIDC provider), a
published stops import with its pipeline, and a reviewer's decision.

The private ride carries canaries (its title and the day it was recorded) that must never
appear in an answer to anyone but its owner."""

from __future__ import annotations

import io
from dataclasses import dataclass, field

from app.auth.access import ADMIN, ANONYMOUS, OPERATOR, OTHER, OWNER
from tests.conftest import csrf_token, login
from tests.ride_helpers import STREET, load_oslo_roads, ride_along, ride_csv, road_by_name, utc
from tests.stops_helpers import publish_golden

PRIVATE_TITLE = "canary-private-ride"
PRIVATE_DAY = "2023-03-14"  # the private ride's day, in every ISO timestamp of it
CANARIES = (PRIVATE_TITLE.encode(), PRIVATE_DAY.encode())
LOGINS = {OWNER: ("rita", ["user"]), OTHER: ("otto", ["user"]),
          OPERATOR: ("olga", ["operator"]), ADMIN: ("ada", ["admin"])}
NOTE_PAIR = {"official_id": "ch:1:sloid:name", "osm_key": "n2"}


def post(client, path: str, data: dict | None = None, **kwargs):
    """A form post with the session's CSRF token, as the page's own form sends it."""
    token = csrf_token(client)
    return client.post(path, data=data or {}, headers={"X-CSRFToken": token}, **kwargs)


@dataclass
class World:
    app: object
    oidc: str
    env: dict
    conn: object
    process: object
    clients: dict = field(default_factory=dict)
    ids: dict = field(default_factory=dict)

    # --- building ---------------------------------------------------------------------------

    def build(self, tmp_path) -> World:
        self.clients[ANONYMOUS] = self.app.test_client()
        for visitor in LOGINS:
            self.relogin(visitor)
        # the golden OSM import replaces the roads: the Oslo streets come after it
        self.ids["pipeline"] = publish_golden(self.env, self.conn, tmp_path)
        load_oslo_roads(self.conn)
        road, _ = road_by_name(STREET)
        self.ids["way"] = road.osm_id
        self.make_rides()
        self.make_decision()
        return self

    def relogin(self, visitor: str) -> None:
        sub, roles = LOGINS[visitor]
        client = self.app.test_client()
        login(client, self.oidc, sub, roles)
        self.clients[visitor] = client
        self.ids[f"{visitor} id"] = client.get("/api/me").get_json()["id"]

    def make_rides(self) -> None:
        owner = self.clients[OWNER]
        resp = post(owner, "/settings/zones", {"lon": "0.5", "lat": "0.5", "radius_m": "100",
                                               "name": "far away"})
        assert resp.status_code == 302, resp.data
        self.ids["zone"] = self.scalar("SELECT max(id) FROM privacy_zones")
        _, coords = road_by_name(STREET)
        private = ride_csv(ride_along(coords, utc(2023, 3, 14, 8, 0, 0), seed=5),
                           {20: 100, 60: 140})
        public = ride_csv(ride_along(coords, utc(2024, 5, 20, 8, 0, 0), seed=6),
                          {30: 120, 50: 90})
        self.ids["private_ride"] = self.upload(private, "canary.csv", False, PRIVATE_TITLE)
        self.ids["public_ride"] = self.upload(public, "public.csv", True, "a public ride")
        self.process()
        statuses = self.rows("SELECT status, status_message FROM rides ORDER BY id")
        assert statuses == [("complete", None)] * 2, statuses
        self.ids["public_event"] = self.scalar(
            "SELECT min(id) FROM ride_events WHERE ride_id = %s", (self.ids["public_ride"],))

    def upload(self, data: bytes, filename: str, public: bool, title: str) -> int:
        resp = post(self.clients[OWNER], "/api/rides",
                    {"body": (io.BytesIO(data), filename), "public": "1" if public else "0",
                     "title": title}, content_type="multipart/form-data")
        assert resp.status_code == 201, resp.data
        return resp.get_json()["ride"]["id"]

    def make_decision(self) -> None:
        resp = post(self.clients[OPERATOR], "/stops/decisions",
                    {"action": "note", "note": "seen on site", **NOTE_PAIR})
        assert resp.status_code == 302, resp.data
        self.ids["decision"] = self.scalar("SELECT max(id) FROM stop_decisions")

    # --- keeping it as built ----------------------------------------------------------------

    def fingerprint(self) -> dict:
        """What the routes may change, by part of the world."""
        return {
            "rides": self.rows(
                "SELECT t.id, t.user_id, t.public, t.status, t.title, "
                "(SELECT count(*) FROM ride_events e WHERE e.ride_id = t.id) "
                "FROM rides t ORDER BY t.id")
            + self.rows("SELECT id, user_id FROM privacy_zones ORDER BY id"),
            "pipelines": self.rows("SELECT id, name, config::text FROM pipelines ORDER BY id")
            + self.rows("SELECT count(*) FROM pipeline_runs"),
            "decisions": self.rows("SELECT id, status FROM stop_decisions ORDER BY id"),
            "users": self.rows("SELECT id, role, api_key_hash, rides_public_by_default "
                               "FROM users ORDER BY id"),
        }

    def restore(self, baseline: dict) -> None:
        """Put back what an allowed request changed, and log in again whoever it logged out."""
        now = self.fingerprint()
        for visitor in LOGINS:
            me = self.clients[visitor].get("/api/me")
            if me.status_code != 200:
                self.relogin(visitor)
        if now["rides"] != baseline["rides"]:
            self.execute("DELETE FROM rides")
            self.execute("DELETE FROM privacy_zones")
            self.make_rides()
        if now["pipelines"] != baseline["pipelines"]:
            self.execute("DELETE FROM pipeline_runs WHERE status IN ('queued', 'running')")
            self.execute("DELETE FROM pipelines WHERE id <> %s", (self.ids["pipeline"],))
        if now["decisions"] != baseline["decisions"]:
            self.execute("DELETE FROM stop_decisions")
            self.make_decision()

    # --- SQL --------------------------------------------------------------------------------

    def rows(self, sql: str, args=()) -> list[tuple]:
        with self.conn.cursor() as cur:
            cur.execute(sql, args)
            found = cur.fetchall()
        self.conn.commit()
        return found

    def scalar(self, sql: str, args=()):
        return self.rows(sql, args)[0][0]

    def execute(self, sql: str, args=()) -> None:
        with self.conn.cursor() as cur:
            cur.execute(sql, args)
        self.conn.commit()
