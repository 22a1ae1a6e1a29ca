"""Workspaces: members with a role, machine clients, and the datasets, datapoints and map
definitions each keeps apart (row-level security; migration 7f3a9c2e4b18)."""

from __future__ import annotations

from datetime import datetime

from geoalchemy2 import Geometry
from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Computed,
    DateTime,
    ForeignKey,
    ForeignKeyConstraint,
    Integer,
    PrimaryKeyConstraint,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db

MEMBER_ROLES = ("viewer", "editor", "owner")  # ascending
OWNER = MEMBER_ROLES[-1]  # manages the members and machine clients; each workspace keeps one


class Workspace(db.Model):
    __tablename__ = "workspaces"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(63), unique=True)
    name: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class WorkspaceMember(db.Model):
    __tablename__ = "workspace_members"
    __table_args__ = (CheckConstraint("role IN ('viewer', 'editor', 'owner')",
                                      name="ck_workspace_members_role"),)

    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"),
                                              primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"),
                                         primary_key=True)
    role: Mapped[str] = mapped_column(String(10))


class WorkspaceClient(db.Model):
    __tablename__ = "workspace_clients"

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    client_id: Mapped[str] = mapped_column(String(255), unique=True)
    name: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class WorkspaceDataset(db.Model):
    __tablename__ = "workspace_datasets"
    __table_args__ = (UniqueConstraint("workspace_id", "slug", name="uq_workspace_datasets_slug"),
                      UniqueConstraint("workspace_id", "id", name="uq_workspace_datasets_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    slug: Mapped[str] = mapped_column(String(63))
    title: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class WorkspaceDatapoint(db.Model):
    __tablename__ = "workspace_datapoints"
    __table_args__ = (
        PrimaryKeyConstraint("dataset_id", "identifier"),
        ForeignKeyConstraint(["workspace_id", "dataset_id"],
                             ["workspace_datasets.workspace_id", "workspace_datasets.id"],
                             ondelete="CASCADE"),
    )

    workspace_id: Mapped[int] = mapped_column(Integer)
    dataset_id: Mapped[int] = mapped_column(Integer)
    identifier: Mapped[str] = mapped_column(String(255))
    name: Mapped[str | None] = mapped_column(Text)
    survey_id: Mapped[str | None] = mapped_column(String(255))
    form_id: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    modified_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    properties: Mapped[dict] = mapped_column(JSONB, server_default="{}")
    geom = mapped_column(Geometry("POINT", 4326, spatial_index=False), nullable=False)
    geom_3857 = mapped_column(Geometry("POINT", 3857, spatial_index=False),
                              Computed("ST_Transform(geom, 3857)", persisted=True))
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True),
                                                  server_default=func.now())


class WorkspaceMap(db.Model):
    __tablename__ = "workspace_maps"
    __table_args__ = (UniqueConstraint("workspace_id", "slug"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    slug: Mapped[str] = mapped_column(String(63))
    title: Mapped[str] = mapped_column(String(255))
    definition: Mapped[dict] = mapped_column(JSONB)
    listed: Mapped[bool] = mapped_column(Boolean, default=True, server_default="true")
    token_hash: Mapped[str | None] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
