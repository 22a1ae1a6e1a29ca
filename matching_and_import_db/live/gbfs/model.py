"""The rows a GBFS feed is read into, shared by the poller, the store and re-publishing."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import NamedTuple


@dataclass(frozen=True)
class Feed:
    slug: str
    url: str  # the auto-discovery gbfs.json (or manifest.json), or a single file
    headers: dict[str, str]
    language: str | None  # which language of a 1.x/2.x gbfs.json; None: the first
    stale: bool
    stale_reason: str | None


@dataclass
class FeedFile:
    """One file of a feed and when to fetch it again."""
    name: str  # station_status, vehicle_status, ... (free_bike_status is kept as named)
    url: str
    version: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    last_updated: datetime | None = None
    ttl: int | None = None
    next_due_at: datetime | None = None
    failures: int = 0
    error: str | None = None
    data: dict | None = None  # the `data` member of the last good fetch
    warnings: list[str] = field(default_factory=list)  # of the last good fetch


class AvailabilityPoint(NamedTuple):
    recorded_at: datetime
    num_bikes_available: int | None
    num_docks_available: int | None
    is_renting: bool | None
    is_returning: bool | None


@dataclass(frozen=True)
class Station:
    station_id: str
    name: str | None
    lon: float
    lat: float
    capacity: int | None
    num_bikes_available: int | None = None
    num_docks_available: int | None = None
    is_renting: bool | None = None
    is_returning: bool | None = None
    last_reported: datetime | None = None


@dataclass(frozen=True)
class Vehicle:
    vehicle_id: str
    lon: float | None
    lat: float | None
    vehicle_type_id: str | None
    form_factor: str | None
    is_reserved: bool
    is_disabled: bool
    current_range_meters: float | None
    station_id: str | None = None


@dataclass(frozen=True)
class Zone:
    index: int
    name: str | None
    rules: list
    geometry: dict  # GeoJSON (Multi)Polygon


@dataclass
class Checked:
    """A file that passed validation: its data with bad records left out, and what was
    left out or looked wrong (shown to operators, the feed stays fresh)."""
    version: str
    last_updated: datetime
    ttl: int
    data: dict
    warnings: list[str] = field(default_factory=list)
