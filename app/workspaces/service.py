"""Workspace operations for the views: plain arguments in, plain data out, in the
request's transaction (db.session), which is bound to the actor's workspace first."""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import NamedTuple

from sqlalchemy import func, or_, select

from app.extensions import db
from app.maps.tiles import tile_invalidator
from app.models.users import User
from app.models.workspaces import (
    MEMBER_ROLES,
    OWNER,
    Workspace,
    WorkspaceClient,
    WorkspaceDataset,
    WorkspaceMap,
    WorkspaceMember,
)
from app.workspaces.binding import bind
from app.workspaces.maplayers import layer_ids, map_layers
from matching_and_import_db.errors import Conflict, InputError, NotFound
from matching_and_import_db.workspaces import metrics, store
from matching_and_import_db.workspaces.datapoints import Batch
from matching_and_import_db.workspaces.maps import SLUG, MapDefinition, read_definition


@dataclass(frozen=True)
class PushResult:
    accepted: int
    changed: int
    errors: list


def _slug(value, what: str) -> str:
    if not isinstance(value, str) or not SLUG.match(value):
        raise InputError(f"{what}: lowercase letters, digits and - (at most 63)")
    return value


# --- admins -----------------------------------------------------------------------------

def create_workspace(slug, name) -> Workspace:
    slug = _slug(slug, "slug")
    if not isinstance(name, str) or not 0 < len(name.strip()) <= 255:
        raise InputError("name: 1 to 255 characters")
    if db.session.scalar(select(Workspace.id).where(Workspace.slug == slug)):
        raise Conflict(f"a workspace {slug!r} exists")
    ws = Workspace(slug=slug, name=name.strip())
    db.session.add(ws)
    db.session.commit()
    return ws


class Membership(NamedTuple):
    workspace: Workspace
    role: str | None  # None: an admin's view of a workspace they have no role in


def workspaces_of(user_id: int, *, every_one: bool = False) -> list[Membership]:
    """The workspaces the user has a role in (every_one: all of them, for an admin)."""
    query = select(Workspace, WorkspaceMember.role).outerjoin(
        WorkspaceMember, (WorkspaceMember.workspace_id == Workspace.id)
        & (WorkspaceMember.user_id == user_id))
    if not every_one:
        query = query.where(WorkspaceMember.user_id.is_not(None))
    return [Membership(w, r) for w, r in db.session.execute(query.order_by(Workspace.slug))]


def workspace_by_slug(slug: str) -> Workspace:
    ws = db.session.scalar(select(Workspace).where(Workspace.slug == slug))
    if ws is None:
        raise NotFound(f"no workspace {slug!r}")
    return ws


def set_member(ws: Workspace, user_id, role) -> None:
    """Give a portal user a role in the workspace (added, or their role changed)."""
    if role not in MEMBER_ROLES:
        raise InputError(f"role: one of {', '.join(MEMBER_ROLES)}")
    uid = _user_id(user_id)
    if db.session.get(User, uid) is None:
        raise InputError(f"no user {uid}")
    member = db.session.get(WorkspaceMember, (ws.id, uid))
    if member is None:
        db.session.add(WorkspaceMember(workspace_id=ws.id, user_id=uid, role=role))
    else:
        if role != OWNER:
            _keep_an_owner(ws, member, "demoted")
        member.role = role
    db.session.commit()


def add_member(ws: Workspace, name, role) -> User:
    """Add the portal user named `name` (their login subject or e-mail address); one who
    is a member already keeps their role (it is changed in the members' list)."""
    user = user_by_name(name)
    if db.session.get(WorkspaceMember, (ws.id, user.id)) is not None:
        raise Conflict(f"{name.strip()} is a member already: change their role in the list")
    set_member(ws, user.id, role)
    return user


def change_role(ws: Workspace, user_id, role) -> None:
    """A member's new role; one who is not a member is not added by it."""
    uid = _user_id(user_id)
    if db.session.get(WorkspaceMember, (ws.id, uid)) is None:
        raise NotFound(f"user {uid} is not a member of {ws.slug}")
    set_member(ws, uid, role)


def remove_member(ws: Workspace, user_id) -> None:
    uid = _user_id(user_id)
    member = db.session.get(WorkspaceMember, (ws.id, uid))
    if member is None:
        raise NotFound(f"user {uid} is not a member of {ws.slug}")
    _keep_an_owner(ws, member, "removed")
    db.session.delete(member)
    db.session.commit()


def _user_id(value) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise InputError("user_id: a user's number") from None


def _keep_an_owner(ws: Workspace, member: WorkspaceMember, change: str) -> None:
    """A workspace keeps at least one owner: someone must be able to manage it."""
    if member.role != OWNER:
        return
    # FOR UPDATE: two owners demoting each other at once cannot both pass the count
    owners = db.session.scalars(
        select(WorkspaceMember.user_id).where(WorkspaceMember.workspace_id == ws.id,
                                              WorkspaceMember.role == OWNER)
        .with_for_update()).all()
    if len(owners) <= 1:
        raise Conflict(f"the last owner of {ws.slug} cannot be {change}: "
                       "make another member an owner first")


def user_by_name(name) -> User:
    if not isinstance(name, str) or not name.strip():
        raise InputError("user: a portal user's login name or e-mail address")
    name = name.strip()
    users = db.session.scalars(select(User).where(
        or_(User.subject == name, func.lower(User.email) == name.lower())).limit(2)).all()
    if not users:
        raise InputError(f"no portal user {name!r}: they must have logged in once")
    if len(users) > 1:
        raise InputError(f"more than one portal user is called {name!r}: "
                         "give their e-mail address")
    return users[0]


class Member(NamedTuple):
    user: User
    role: str


def members(ws: Workspace) -> list[Member]:
    """Every member with their role, owners first."""
    rows = db.session.execute(
        select(User, WorkspaceMember.role)
        .join(WorkspaceMember, WorkspaceMember.user_id == User.id)
        .where(WorkspaceMember.workspace_id == ws.id)).all()
    return sorted((Member(u, r) for u, r in rows),
                  key=lambda m: (-MEMBER_ROLES.index(m.role), m.user.subject))


def register_client(ws: Workspace, client_id, name) -> WorkspaceClient:
    if isinstance(client_id, str):
        client_id = client_id.strip()
    if not isinstance(client_id, str) or not 0 < len(client_id) <= 255:
        raise InputError("client_id: the OAuth client id (1 to 255 characters)")
    if isinstance(name, str):
        name = name.strip()
    if name is not None and (not isinstance(name, str) or len(name) > 255):
        raise InputError("name: at most 255 characters")
    if db.session.scalar(select(WorkspaceClient.id).where(WorkspaceClient.client_id == client_id)):
        raise Conflict(f"client {client_id!r} is registered already")
    client = WorkspaceClient(workspace_id=ws.id, client_id=client_id, name=name or client_id)
    db.session.add(client)
    db.session.commit()
    return client


def remove_client(ws: Workspace, client_id) -> None:
    """Its tokens stop working at once: a token speaks only for a registered client."""
    client = db.session.scalar(select(WorkspaceClient).where(
        WorkspaceClient.workspace_id == ws.id, WorkspaceClient.client_id == client_id))
    if client is None:
        raise NotFound(f"no client {client_id!r} in {ws.slug}")
    db.session.delete(client)
    db.session.commit()


def clients(ws: Workspace) -> list[WorkspaceClient]:
    return list(db.session.scalars(select(WorkspaceClient).where(
        WorkspaceClient.workspace_id == ws.id).order_by(WorkspaceClient.client_id)))


# --- datapoints -------------------------------------------------------------------------

def push_datapoints(redis, ws: Workspace, dataset: str, batch: Batch) -> PushResult:
    """Every valid item in one transaction, committed before the caller answers 2xx; the
    tiles of the maps over the dataset invalidated after the commit."""
    started = time.perf_counter()
    dataset = _slug(dataset, "dataset")
    # read before the commit expires it: reading it after would cost a new transaction
    # (bound again, the workspace row read again, rolled back at the request's end)
    workspace_id = ws.id
    cur = bind(workspace_id)
    dataset_id = store.ensure_dataset(cur, dataset)
    change = store.upsert_datapoints(cur, dataset_id, batch.items)
    affected = maps_over(cur, dataset) if change.rows else []
    db.session.commit()
    _invalidate(affected, change.bbox)
    newest = max((p.modified_at for p in batch.items), default=None)
    lag = (datetime.now(UTC) - newest).total_seconds() if newest else None
    metrics.record_batch(redis, workspace_id, accepted=len(batch.items),
                         rejected=len(batch.errors),
                         seconds=time.perf_counter() - started, lag_seconds=lag)
    return PushResult(len(batch.items), change.rows, [e.as_json() for e in batch.errors])


def delete_datapoints(ws: Workspace, dataset: str, identifiers) -> int:
    if not isinstance(identifiers, list) or not all(isinstance(i, str) for i in identifiers) \
            or len(identifiers) > 10_000:
        raise InputError("identifiers: a list of at most 10,000 identifiers")
    cur = bind(ws.id)
    dataset_id = _dataset_id(cur, dataset)
    change = store.delete_datapoints(cur, dataset_id, identifiers)
    affected = maps_over(cur, dataset) if change.rows else []
    db.session.commit()
    _invalidate(affected, change.bbox)
    return change.rows


def _dataset_id(cur, slug: str) -> int:
    ds = db.session.scalar(select(WorkspaceDataset.id).where(WorkspaceDataset.slug == slug))
    if ds is None:
        raise NotFound(f"no dataset {slug!r}")
    return ds


def datasets(ws: Workspace) -> list[dict]:
    bind(ws.id)
    rows = db.session.scalars(select(WorkspaceDataset).order_by(WorkspaceDataset.slug))
    return [{"slug": d.slug, "title": d.title} for d in rows]


def maps_over(cur, dataset: str) -> list[str]:
    """The tile layer ids of this workspace's maps that draw the dataset. The database
    picks those maps (JSONB containment, @>), so a push reads only their definitions, not
    every map of the workspace."""
    out = []
    draws = WorkspaceMap.definition.contains({"layers": [{"dataset": dataset}]})
    for m in db.session.scalars(select(WorkspaceMap).where(draws)):
        out += layer_ids(m.id, m.version, read_definition(m.definition))
    return out


def _invalidate(layer_ids_: list[str], bbox) -> None:
    # a map's layers are made from its definition, not kept in the catalog: named by id
    if bbox is not None:
        tile_invalidator().layers_changed(layer_ids_, bbox)


# --- maps -------------------------------------------------------------------------------

def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def save_map(ws: Workspace, slug, data, *, replace: bool) -> tuple[WorkspaceMap, str | None]:
    """Create (or replace) a map; an unlisted one gets a new token, returned once."""
    slug = _slug(slug, "map slug")
    definition = read_definition(data)
    bind(ws.id)
    existing = db.session.scalar(select(WorkspaceMap).where(WorkspaceMap.slug == slug))
    if existing is not None and not replace:
        raise Conflict(f"a map {slug!r} exists: replace it with PUT")
    if existing is None and replace:
        raise NotFound(f"no map {slug!r}")
    token = None if definition.listed else secrets.token_urlsafe(24)
    m = existing or WorkspaceMap(workspace_id=ws.id, slug=slug, version=0)
    m.title, m.definition, m.listed = definition.title, data, definition.listed
    m.token_hash = _token_hash(token) if token else None
    m.version = (m.version or 0) + 1
    m.updated_at = datetime.now(UTC)
    db.session.add(m)
    db.session.commit()
    return m, token


def get_map(ws: Workspace, slug: str) -> WorkspaceMap:
    bind(ws.id)
    m = db.session.scalar(select(WorkspaceMap).where(WorkspaceMap.slug == slug))
    if m is None:
        raise NotFound(f"no map {slug!r}")
    return m


def list_maps(ws: Workspace) -> list[WorkspaceMap]:
    bind(ws.id)
    return list(db.session.scalars(select(WorkspaceMap).order_by(WorkspaceMap.slug)))


def delete_map(ws: Workspace, slug: str) -> None:
    m = get_map(ws, slug)
    db.session.delete(m)
    db.session.commit()


def published_map(slug: str, map_slug: str, token: str | None):
    """A map as anyone may see it: listed, or unlisted with its token; else 404. Returns
    the workspace, the map, its definition and its tile layers, the transaction bound to
    the workspace (the tiles are read under its row-level security)."""
    ws = workspace_by_slug(slug)
    m = get_map(ws, map_slug)
    if not m.listed and (not token or m.token_hash is None
                         or not secrets.compare_digest(_token_hash(token), m.token_hash)):
        raise NotFound(f"no map {map_slug!r}")
    definition: MapDefinition = read_definition(m.definition)
    ids = {d.slug: d.id for d in db.session.scalars(select(WorkspaceDataset))}
    return ws, m, definition, map_layers(m.id, m.version, definition, ids)


def describe_map(ws: Workspace, m: WorkspaceMap, public_url: str) -> dict:
    base = f"{public_url.rstrip('/')}/w/{ws.slug}/maps/{m.slug}"
    return {"slug": m.slug, "title": m.title, "listed": m.listed, "version": m.version,
            "definition": m.definition, "updated_at": m.updated_at.isoformat(),
            "links": {"page": base + "/", "style": base + "/style.json",
                      "tilejson": base + "/tilejson.json",
                      "tiles": base + "/tiles/{z}/{x}/{y}.mvt"}}
