"""Rides for the web: upload, API keys, listing, visibility, deletion, reprocessing.

Services take plain arguments and never touch flask.request. Visibility is decided here,
once: a ride that is not the viewer's and not public does not exist for them (NotFound).
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime

from flask import current_app
from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.maps.tiles import tile_invalidator
from app.models import PrivacyZone, Ride, User
from matching_and_import_db.errors import (
    InputError,
    NotFound,
    PayloadTooLarge,
    UnprocessableInput,
)
from matching_and_import_db.rides import changes, rawstore, visibility
from matching_and_import_db.rides.parse import parse_ride_file
from matching_and_import_db.tilecache import RIDES

API_KEY_PREFIX = "obs_"
MAX_TITLE = 200


def _settings():
    return current_app.config["PORTAL"]


# --- API keys ------------------------------------------------------------------------------

def _hash_key(key: str) -> str:
    # The key is 192 random bits: a plain SHA-256 cannot be brute-forced, and lookups by
    # hash stay one index probe (a slow password hash would need the user first).
    return hashlib.sha256(key.encode()).hexdigest()


def regenerate_api_key(user: User) -> str:
    """A new key for the user's devices; the old one stops working. Returned once."""
    key = API_KEY_PREFIX + secrets.token_urlsafe(24)
    user.api_key_hash = _hash_key(key)
    user.api_key_created_at = datetime.now(UTC)
    db.session.commit()
    return key


def user_for_api_key(key: str) -> User | None:
    key = key.strip()
    if not key:
        return None
    return db.session.scalar(select(User).where(User.api_key_hash == _hash_key(key)))


# --- upload ----------------------------------------------------------------------------------

def accept_upload(user: User, filename: str | None, data: bytes, via: str,
                  public: bool | None = None, title: str | None = None) -> tuple[Ride, bool]:
    """Store a ride and queue it; (ride, created). The same content uploaded again by the
    same user answers with the existing ride. Nothing is stored for a file we cannot read."""
    settings = _settings()
    name = (filename or "upload").rsplit("/", 1)[-1][:255]
    if not data:
        raise InputError("no file was sent: put the ride in the multipart field 'body' "
                         "(or send it as the request body)")
    if "\x00" in (filename or "") or "\x00" in (title or ""):
        raise InputError("the file name or title holds a NUL character; rename the file")
    if len(data) > settings.upload_max_bytes:
        raise PayloadTooLarge(f"{name}: the file is larger than the limit of "
                              f"{settings.upload_max_bytes} bytes")
    try:
        content = rawstore.decompress_upload(data, settings.upload_max_bytes)
        parsed = parse_ride_file(content, name, settings.ride_limits)
    except PayloadTooLarge as exc:
        raise PayloadTooLarge(f"{name}: {exc}") from None
    except InputError as exc:
        raise UnprocessableInput(f"{name}: {exc}") from None
    if not any(p.lat is not None and p.lon is not None for p in parsed.points):
        raise UnprocessableInput(f"{name}: the ride has no valid GPS fix")
    sha256 = rawstore.content_sha256(content)
    existing = _own_ride_by_hash(user.id, sha256)
    if existing is not None:
        return existing, False
    rawstore.store_raw(settings.data_dir, content)
    ride = Ride(user_id=user.id, title=(title or "").strip()[:MAX_TITLE] or None,
                  public=user.rides_public_by_default if public is None else public,
                  original_filename=name, raw_sha256=sha256, raw_size=len(content),
                  uploaded_via=via, status="queued", attempts=0)
    db.session.add(ride)
    try:
        db.session.commit()
    except IntegrityError:  # the same file, uploaded twice at the same moment
        db.session.rollback()
        return _own_ride_by_hash(user.id, sha256), False
    return ride, True


def _own_ride_by_hash(user_id: int, sha256: str) -> Ride | None:
    return db.session.scalar(select(Ride).where(Ride.user_id == user_id,
                                                 Ride.raw_sha256 == sha256))


# --- reading ---------------------------------------------------------------------------------

def visible_ride(ride_id: int, viewer: User | None) -> Ride:
    """The ride if the viewer may see it: their own in any state, anyone else's only while
    it is published (public and processed: visibility.shown_to_others). Private means
    private: admins too get NotFound for other people's private rides (they may still
    reprocess and delete them, see own_ride)."""
    ride = db.session.get(Ride, ride_id)
    if ride is None or not (is_owner(ride, viewer)
                             or visibility.shown_to_others(ride.status, ride.public)):
        raise NotFound(f"no ride {ride_id}")
    return ride


def own_ride(ride_id: int, viewer: User | None, allow_admin: bool = False) -> Ride:
    """The ride if the viewer owns it (or is an admin, where allowed: the actions that
    change or remove a ride, never those that show its data)."""
    ride = db.session.get(Ride, ride_id)
    if ride is None or not (is_owner(ride, viewer) or (
            allow_admin and viewer is not None and viewer.has_role("admin"))):
        raise NotFound(f"no ride {ride_id}")
    return ride


def is_owner(ride: Ride, viewer: User | None) -> bool:
    return viewer is not None and ride.user_id == viewer.id


SORTS = {  # allow-list: the query string names one of these, never a column
    "recorded": Ride.recorded_at, "uploaded": Ride.uploaded_at, "length": Ride.length_m,
    "duration": Ride.duration_s, "events": Ride.events_count, "title": Ride.title,
}


def list_rides(owner_id: int | None = None, public_only: bool = False,
                status: str | None = None, visibility: str | None = None,
                date_from: datetime | None = None, date_to: datetime | None = None,
                sort: str = "recorded", descending: bool = True, limit: int = 100,
                offset: int = 0) -> tuple[list[Ride], int]:
    query = select(Ride)
    if owner_id is not None:
        query = query.where(Ride.user_id == owner_id)
    if public_only:
        query = query.where(Ride.public, Ride.status == "complete")
    if status:
        query = query.where(Ride.status == status)
    if visibility in ("public", "private"):
        query = query.where(Ride.public == (visibility == "public"))
    if date_from:
        query = query.where(Ride.recorded_at >= date_from)
    if date_to:
        query = query.where(Ride.recorded_at < date_to)
    total = db.session.scalar(select(func.count()).select_from(query.subquery()))
    column = SORTS.get(sort)
    if column is None:
        raise InputError(f"cannot sort by {sort!r}; choose one of {', '.join(SORTS)}")
    order = column.desc().nulls_last() if descending else column.asc().nulls_last()
    rows = db.session.scalars(query.order_by(order, Ride.id.desc())
                              .limit(limit).offset(offset)).all()
    return list(rows), total


def ride_as_dict(ride: Ride, viewer: User | None) -> dict:
    data = {
        "id": ride.id, "title": ride.title, "public": ride.public,
        "status": ride.status, "status_message": ride.status_message,
        "recorded_at": _iso(ride.recorded_at), "recorded_until": _iso(ride.recorded_until),
        "duration_s": ride.duration_s, "length_m": ride.length_m,
        "events": ride.events_count, "url": f"/rides/{ride.id}",
    }
    if is_owner(ride, viewer):
        data.update(uploaded_at=_iso(ride.uploaded_at), original_filename=ride.original_filename,
                    file_format=ride.file_format, device_id=ride.device_id,
                    firmware=ride.firmware, points_total=ride.points_total,
                    points_valid=ride.points_valid, points_private=ride.points_private,
                    points_matched=ride.points_matched,
                    processing_seconds=ride.processing_seconds)
    return data


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


# --- changing ---------------------------------------------------------------------------------

def set_visibility(ride: Ride, public: bool) -> None:
    """Statistics count public rides only, so they follow the change in the same commit."""
    _commit_and_invalidate(changes.set_ride_visibility(_cursor(), ride.id, public))


def update_title(ride: Ride, title: str) -> None:
    ride.title = title.strip()[:MAX_TITLE] or None
    db.session.commit()


def reprocess(ride_ids: list[int]) -> int:
    return _commit_and_invalidate(changes.requeue_rides(_cursor(), ride_ids)).count


def reprocess_user(user_id: int) -> int:
    return _commit_and_invalidate(changes.requeue_rides_of_user(_cursor(), user_id)).count


def reprocess_all() -> int:
    return _commit_and_invalidate(changes.requeue_every_ride(_cursor())).count


def requeue_for_new_zone(user_id: int, lon: float, lat: float,
                         radius_m: float) -> changes.RideChange:
    """In the caller's transaction, to commit with the new zone (then invalidate_tiles)."""
    return changes.requeue_rides_near_zone(_cursor(), user_id, lon, lat, radius_m)


def requeue_for_removed_zone(user_id: int) -> changes.RideChange:
    """In the caller's transaction, to commit with the zone's removal."""
    return changes.requeue_rides_after_zone_removal(_cursor(), user_id)


def delete_rides(user_id: int, ride_ids: list[int] | None = None) -> int:
    """Delete rides (all of the user's when ride_ids is None) with their events, passes
    and raw files; statistics lose their share in the same commit."""
    query = select(Ride.id, Ride.raw_sha256).where(Ride.user_id == user_id)
    if ride_ids is not None:
        query = query.where(Ride.id.in_(ride_ids))
    rows = db.session.execute(query).all()
    if not rows:
        return 0
    change = _commit_and_invalidate(changes.delete_rides(_cursor(), [r.id for r in rows]))
    _delete_unreferenced_raw({r.raw_sha256 for r in rows})
    return change.count


def delete_all_my_data(user: User) -> int:
    count = delete_rides(user.id)
    db.session.execute(delete(PrivacyZone).where(PrivacyZone.user_id == user.id))
    user.api_key_hash = None
    user.api_key_created_at = None
    db.session.commit()
    return count


def _delete_unreferenced_raw(hashes: set[str]) -> None:
    """Raw files are shared by content: delete only those no other ride still names."""
    still_used = set(db.session.scalars(select(Ride.raw_sha256)
                                        .where(Ride.raw_sha256.in_(hashes))))
    for sha in hashes - still_used:
        rawstore.delete_raw(_settings().data_dir, sha)


def raw_file(ride: Ride) -> bytes:
    return rawstore.read_raw(_settings().data_dir, ride.raw_sha256)


def _commit_and_invalidate(change: changes.RideChange) -> changes.RideChange:
    db.session.commit()
    invalidate_tiles(change)
    return change


def invalidate_tiles(change: changes.RideChange) -> None:
    """After the commit: the map's cached ride tiles over the change are gone."""
    tile_invalidator().changed(RIDES, change.extent)


def _cursor():
    """A psycopg2 cursor in the session's transaction, for the shared SQL in store."""
    return db.session.connection().connection.driver_connection.cursor()
