"""Workspaces for tests: the client-credentials provider (scripts/oidc-clients.mjs, panva's
oidc-provider in a real Node process), an app that trusts it, and a world of two
workspaces with members of every role and a machine client each."""

from __future__ import annotations

import json
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import psycopg2
import pytest
import requests
from joserfc import jwt
from joserfc.jwk import RSAKey

from tests.conftest import ROOT, free_port, login, make_app, wait_until
from tests.workspace_helpers import new_key

ROLE = "portal_client"
CLIENTS = {  # client id -> (roles, the workspace its token names)
    "alpha-sync": ([ROLE], "alpha"),
    "beta-sync": ([ROLE], "beta"),
    "alpha-unnamed": ([ROLE], None),  # the workspace from its registration only
    "alpha-norole": (["offline_access"], "alpha"),
}


class ClientProvider:
    def __init__(self, workdir: Path):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.keys = [new_key()]
        config = workdir / "clients.json"
        config.write_text(json.dumps(self.config()))
        self._log = open(workdir / "oidc-clients.log", "wb")
        self.log_path = workdir / "oidc-clients.log"
        self.proc = subprocess.Popen(
            ["node", str(ROOT / "scripts" / "oidc-clients.mjs"), "--port", str(self.port),
             "--config", str(config)], stdout=self._log, stderr=subprocess.STDOUT, cwd=ROOT)
        wait_until(self._up, 30, message="the client-credentials provider to start")

    def config(self) -> dict:
        return {"audience": "portal", "keys": self.keys,
                "clients": [{"client_id": cid, "client_secret": f"{cid}-secret",
                             "roles": roles, "workspace": ws}
                            for cid, (roles, ws) in CLIENTS.items()]}

    def _up(self) -> bool:
        if self.proc.poll() is not None:
            pytest.fail(f"oidc-clients exited: {self.log_path.read_text(errors='replace')}")
        try:
            return requests.get(self.url + "/.well-known/openid-configuration", timeout=1).ok
        except requests.ConnectionError:
            return False

    def rotate(self, keep_old: bool = False) -> None:
        """A new signing key; the old one published beside it or dropped."""
        self.keys = [new_key()] + (self.keys if keep_old else [])
        requests.put(self.url + "/admin/config", json=self.config(), timeout=5).raise_for_status()

    def token(self, client_id: str) -> str:
        resp = requests.post(self.url + "/token", data={"grant_type": "client_credentials"},
                             auth=(client_id, f"{client_id}-secret"), timeout=5)
        resp.raise_for_status()
        return resp.json()["access_token"]

    def sign(self, claims: dict, key: dict | None = None, header: dict | None = None) -> str:
        """A token signed with one of the provider's published keys, with claims of the
        test's choosing (expired, another audience, ...)."""
        key = key or self.keys[0]
        now = int(time.time())
        payload = {"iss": self.url, "aud": "portal", "iat": now, "exp": now + 300,
                   "client_id": "alpha-sync", "azp": "alpha-sync",
                   "realm_access": {"roles": [ROLE]}, "portal_workspace": "alpha", **claims}
        payload = {k: v for k, v in payload.items() if v is not None}
        head = {"alg": "RS256", "typ": "JWT", "kid": key["kid"], **(header or {})}
        return jwt.encode(head, payload, RSAKey.import_key(key))

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)
        self._log.close()


@pytest.fixture(scope="session")
def client_provider(tmp_path_factory):
    provider = ClientProvider(tmp_path_factory.mktemp("oidc-clients"))
    yield provider
    provider.stop()


@pytest.fixture
def ws_app(settings_env, client_provider):
    from app.extensions import db
    app = make_app(settings_env, client_issuer=client_provider.url,
                   ratelimit_login="1000 per minute")
    yield app
    with app.app_context():
        db.engine.dispose()


@dataclass
class WorkspaceWorld:
    """alpha with a viewer, an editor and an owner; beta with its own member; a machine
    client registered to each (alpha-sync, beta-sync) and alpha-unnamed."""
    app: object
    provider: ClientProvider
    users: dict = field(default_factory=dict)  # visitor -> logged-in test client
    user_ids: dict = field(default_factory=dict)  # visitor -> their users.id
    tokens: dict = field(default_factory=dict)

    def session(self, who: str):
        return self.users[who]


MEMBERS = {"vera": ("alpha", "viewer"), "eddie": ("alpha", "editor"),
           "olive": ("alpha", "owner"), "bert": ("beta", "owner")}


def build_world(app, provider, oidc_url: str, database_url: str) -> WorkspaceWorld:
    world = WorkspaceWorld(app, provider)
    for sub in MEMBERS:
        client = app.test_client()
        login(client, oidc_url, sub, roles=["user"])
        world.users[sub] = client
        world.user_ids[sub] = client.get("/api/me").json["id"]
    world.users["anonymous"] = app.test_client()
    conn = psycopg2.connect(database_url)
    with conn, conn.cursor() as cur:
        for slug in ("alpha", "beta"):
            cur.execute("INSERT INTO workspaces (slug, name) VALUES (%s, %s)",
                        (slug, slug.title()))
        for sub, (slug, role) in MEMBERS.items():
            cur.execute("INSERT INTO workspace_members (workspace_id, user_id, role) "
                        "SELECT w.id, u.id, %s FROM workspaces w, users u "
                        "WHERE w.slug = %s AND u.subject = %s", (role, slug, sub))
        for cid, (_, slug) in CLIENTS.items():
            cur.execute("INSERT INTO workspace_clients (workspace_id, client_id, name) "
                        "SELECT id, %s, %s FROM workspaces WHERE slug = %s",
                        (cid, cid, slug or "alpha"))
    conn.close()
    for cid in CLIENTS:
        world.tokens[cid] = provider.token(cid)
    return world


@pytest.fixture
def ws_world(ws_app, client_provider, oidc_provider, settings_env) -> WorkspaceWorld:
    return build_world(ws_app, client_provider, oidc_provider,
                       settings_env["PORTAL_DATABASE_URL"])
