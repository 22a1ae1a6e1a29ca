"""Privacy for rides: the owner's zones, and the time rounding of filters over other
people's data.

Zones: nothing recorded inside one leaves the server. Adding a zone queues again, in the
zone's own transaction, the owner's rides that show anything inside it (and any being
processed at that moment); deleting one queues those that had points hidden or failed.
Queued rides show others nothing, so every output follows the zones as they are.

Rounding: a time filter over other people's rides is widened to whole ISO weeks (Monday
00:00 UTC), so narrowing the range cannot single out one ride.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from app.extensions import db
from app.models import PrivacyZone, User
from app.rides import service
from matching_and_import_db.errors import InputError, NotFound

MIN_RADIUS_M, MAX_RADIUS_M = 50.0, 5000.0
MAX_ZONES = 20


def zones_of(user: User) -> list[dict]:
    rows = db.session.execute(
        select(PrivacyZone.id, PrivacyZone.name, func.ST_X(PrivacyZone.center),
               func.ST_Y(PrivacyZone.center), PrivacyZone.radius_m)
        .where(PrivacyZone.user_id == user.id).order_by(PrivacyZone.id)).all()
    return [{"id": r[0], "name": r[1], "lon": r[2], "lat": r[3], "radius_m": r[4]}
            for r in rows]


def add_zone(user: User, lon: float, lat: float, radius_m: float, name: str | None) -> int:
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        raise InputError("the zone's centre must be a longitude in -180..180 and a latitude "
                         "in -90..90")
    if not MIN_RADIUS_M <= radius_m <= MAX_RADIUS_M:
        raise InputError(f"the radius must be between {MIN_RADIUS_M:.0f} and "
                         f"{MAX_RADIUS_M:.0f} metres")
    count = db.session.scalar(select(func.count()).where(PrivacyZone.user_id == user.id))
    if count >= MAX_ZONES:
        raise InputError(f"at most {MAX_ZONES} privacy zones per user")
    zone = PrivacyZone(user_id=user.id, name=(name or "").strip()[:100] or None,
                       center=func.ST_SetSRID(func.ST_MakePoint(lon, lat), 4326),
                       radius_m=radius_m)
    db.session.add(zone)
    db.session.flush()
    # the rides it touches are hidden in the zone's own transaction: no moment exists in
    # which the zone is saved and a line through it is still served
    change = service.requeue_for_new_zone(user.id, lon, lat, radius_m)
    db.session.commit()
    service.invalidate_tiles(change)
    return zone.id


def delete_zone(user: User, zone_id: int) -> None:
    zone = db.session.get(PrivacyZone, zone_id)
    if zone is None or zone.user_id != user.id:
        raise NotFound(f"no privacy zone {zone_id}")
    db.session.delete(zone)
    db.session.flush()
    change = service.requeue_for_removed_zone(user.id)
    db.session.commit()
    service.invalidate_tiles(change)


def week_start(moment: datetime) -> datetime:
    day = moment.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return day - timedelta(days=day.weekday())


def round_to_weeks(date_from: datetime | None,
                   date_to: datetime | None) -> tuple[datetime | None, datetime | None]:
    """[from, to) widened to whole weeks: from down to its Monday, to up to the next
    Monday (unless it already is one)."""
    start = week_start(date_from) if date_from else None
    end = None
    if date_to:
        end = week_start(date_to)
        if end < date_to:
            end += timedelta(days=7)
    return start, end
