"""Who acts on a workspace: a machine client (bearer token) or a logged-in member.

A bearer token is checked against the client issuer's keys (domain: tokens.py); the client
must be registered to a workspace in the portal, and a workspace the token itself names
must be that one. A bad token is 401 with `WWW-Authenticate: Bearer error=...`; a valid
client acting on another workspace is 403; members of other workspaces get 404.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from flask import current_app, g, request
from joserfc import jws
from sqlalchemy import select
from werkzeug.datastructures import WWWAuthenticate
from werkzeug.exceptions import Unauthorized

from app.extensions import db
from app.models.workspaces import MEMBER_ROLES, Workspace, WorkspaceClient, WorkspaceMember
from app.redis_client import get_redis
from matching_and_import_db.errors import Forbidden, NotFound
from matching_and_import_db.workspaces.tokens import KeyStore, TokenError, TokenPolicy, validate

VIEWER, EDITOR, OWNER_ROLE = MEMBER_ROLES
CLIENT = "client"


@dataclass(frozen=True)
class Actor:
    workspace_id: int
    workspace_slug: str
    role: str  # viewer | editor | owner | client
    client_id: str | None = None

    @property
    def may_edit(self) -> bool:
        return self.role in (EDITOR, OWNER_ROLE, CLIENT)


def token_policy() -> TokenPolicy:
    s = current_app.config["PORTAL"]
    return TokenPolicy(issuer=s.client_issuer or s.oidc_issuer, audience=s.client_audience,
                       roles_claim=s.client_roles_claim, required_role=s.client_role,
                       workspace_claim=s.client_workspace_claim,
                       jwks_cache_seconds=s.jwks_cache_seconds)


def key_store() -> KeyStore:
    policy = token_policy()
    return KeyStore(get_redis(), policy.issuer, policy.jwks_cache_seconds)


def refuse_token(code: str, description: str) -> Unauthorized:
    challenge = WWWAuthenticate("Bearer", {"realm": "portal", "error": code,
                                           "error_description": description})
    return Unauthorized(description, www_authenticate=challenge)


def bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" else None


@dataclass(frozen=True)
class RegisteredClient:
    client_id: str
    workspace: Workspace  # of its registration


def machine_client() -> RegisteredClient | None:
    """The registered client a bearer token speaks for (once per request); None without
    a bearer token; 401 for a bad token."""
    if "workspace_client" in g:
        return g.workspace_client
    token = bearer_token()
    if token is None:
        if request.headers.get("Authorization"):
            raise refuse_token("invalid_request", "use 'Authorization: Bearer <token>'")
        return None
    try:
        identity = validate(token, token_policy(), key_store())
    except TokenError as exc:
        raise refuse_token(exc.code, exc.description) from None
    workspace = db.session.scalar(
        select(Workspace).join(WorkspaceClient, Workspace.id == WorkspaceClient.workspace_id)
        .where(WorkspaceClient.client_id == identity.client_id))
    if workspace is None:
        raise refuse_token("invalid_token", "this client is not registered to a workspace")
    if identity.workspace is not None and identity.workspace != workspace.slug:
        raise Forbidden("the token names another workspace than the client's registration")
    g.workspace_client = RegisteredClient(identity.client_id, workspace)
    return g.workspace_client


def actor_for(slug: str, *, need: str = VIEWER) -> tuple[Actor, Workspace]:
    """The actor on workspace `slug`, holding at least the role `need` (a client counts as
    an editor), and the workspace; else the status the access matrix declares."""
    client = machine_client()
    if client is not None:
        if slug != client.workspace.slug:
            raise Forbidden("this client acts for another workspace")
        if need == OWNER_ROLE:
            raise Forbidden("only the workspace's owners may do this")
        workspace = client.workspace
        return Actor(workspace.id, workspace.slug, CLIENT, client.client_id), workspace
    user = g.get("user")
    if user is None:
        raise refuse_token("invalid_request", "send a bearer token, or log in")
    workspace = db.session.scalar(select(Workspace).where(Workspace.slug == slug))
    role = None if workspace is None else db.session.scalar(
        select(WorkspaceMember.role).where(WorkspaceMember.workspace_id == workspace.id,
                                           WorkspaceMember.user_id == user.id))
    if role is None:
        raise NotFound(f"no workspace {slug!r}")
    if MEMBER_ROLES.index(role) < MEMBER_ROLES.index(need):
        raise Forbidden(f"this needs the {need} role in the workspace")
    return Actor(workspace.id, workspace.slug, role), workspace


def rate_key() -> str:
    """flask-limiter's key: the machine client when there is one, else the address."""
    token = bearer_token()
    if token:
        # the token's client id without validating again: a forged one only spends the
        # budget of the client it names, and is refused right after
        try:
            payload = json.loads(jws.extract_compact(token.encode()).payload)
            return "client:" + str(payload.get("client_id") or payload.get("azp"))
        except Exception:  # noqa: BLE001 - an unreadable token is refused by the view
            return "client:?"
    return request.remote_addr or "?"
