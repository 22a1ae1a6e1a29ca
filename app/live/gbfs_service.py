"""GBFS feeds as the app sees them: add one (form, API or CLI), list them with their state,
a station's history, our re-published documents. The polling itself is the scheduler's
(matching_and_import_db.live.gbfs.poller)."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.models import GbfsFeed, GbfsFeedFile, GbfsStation
from app.pipelines.service import raw_connection
from matching_and_import_db.errors import Conflict, InputError, NotFound
from matching_and_import_db.live.gbfs import republish, store
from matching_and_import_db.pipelines.sources import is_url

SLUG = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")
HEADER_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{0,63}$")
# headers a feed may not set: they would change how the request is made, not who asks
RESERVED_HEADERS = {"host", "content-length", "transfer-encoding", "connection",
                    "if-none-match", "if-modified-since"}
PERIODS = {"day": timedelta(days=1), "week": timedelta(days=7)}


def _headers(headers) -> dict[str, str]:
    if headers is None or (isinstance(headers, str) and not headers.strip()):
        return {}
    if isinstance(headers, str):  # the pipelines page's form sends them as JSON text
        try:
            headers = json.loads(headers)
        except ValueError:
            raise InputError('headers must be JSON, like {"Client-Identifier": '
                             '"mycity-portal"}') from None
    if not isinstance(headers, dict):
        raise InputError("headers must be an object of header names and values, like "
                         '{"Client-Identifier": "mycity-portal"}')
    out = {}
    for name, value in headers.items():
        if not isinstance(name, str) or not HEADER_NAME.match(name):
            raise InputError(f"header name {str(name)[:64]!r}: letters, digits and '-' only")
        if name.lower() in RESERVED_HEADERS:
            raise InputError(f"header {name} is set by the poller itself")
        if not isinstance(value, str) or len(value) > 1000 or any(c in value for c in "\r\n\0"):
            raise InputError(f"header {name}: a value is text of at most 1000 characters "
                             "on one line")
        out[name] = value
    return out


def create_feed(slug: str, url: str, headers=None, language: str | None = None) -> GbfsFeed:
    slug = (slug or "").strip()
    if not SLUG.match(slug):
        raise InputError("a feed name is 1-63 characters: lower-case letters, digits, '-' "
                         "and '_', starting with a letter or digit")
    url = (url or "").strip()
    if not is_url(url) or len(url) > 2000:
        raise InputError("a feed is added by the http(s) URL of its gbfs.json (or "
                         "manifest.json, or a single GBFS file)")
    language = (language or "").strip() or None
    feed = GbfsFeed(slug=slug, url=url, headers=_headers(headers), language=language)
    db.session.add(feed)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise Conflict(f"a feed named {slug} exists") from None
    return feed


def get_feed(slug: str) -> GbfsFeed:
    feed = db.session.get(GbfsFeed, slug)
    if feed is None:
        raise NotFound(f"no GBFS feed {slug!r}")
    return feed


def list_feeds() -> list[GbfsFeed]:
    return list(db.session.scalars(select(GbfsFeed).order_by(GbfsFeed.slug)))


def _iso(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z") if value else None


def feed_as_dict(feed: GbfsFeed) -> dict:
    """A feed's state for operators (its request headers, which may hold a key, are not
    shown: only their names)."""
    files = db.session.scalars(select(GbfsFeedFile).where(GbfsFeedFile.feed == feed.slug)
                               .order_by(GbfsFeedFile.name))
    return {"slug": feed.slug, "url": feed.url, "header_names": sorted(feed.headers or {}),
            "language": feed.language, "enabled": feed.enabled, "version": feed.version,
            "system_name": feed.system_name, "stale": feed.stale,
            "stale_reason": feed.stale_reason, "warnings": feed.warnings or [],
            "last_success_at": _iso(feed.last_success_at),
            "last_attempt_at": _iso(feed.last_attempt_at),
            "files": [{"name": f.name, "url": f.url, "version": f.version,
                       "last_updated": _iso(f.last_updated), "ttl": f.ttl,
                       "next_due_at": _iso(f.next_due_at), "failures": f.failures,
                       "error": f.error, "fetched_at": _iso(f.fetched_at)} for f in files]}


def station_history(slug: str, station_id: str, period: str) -> dict:
    if period not in PERIODS:
        raise InputError("period must be day or week")
    if db.session.get(GbfsStation, (slug, station_id)) is None:
        raise NotFound(f"no station {station_id!r} in feed {slug!r}")
    since = datetime.now(UTC) - PERIODS[period]
    with raw_connection() as conn:
        points = store.station_history(conn, slug, station_id, since)
        conn.rollback()
    return {"feed": slug, "station_id": station_id, "period": period, "since": _iso(since),
            "points": [{"time": _iso(p.recorded_at),
                        "num_bikes_available": p.num_bikes_available,
                        "num_docks_available": p.num_docks_available,
                        "is_renting": p.is_renting, "is_returning": p.is_returning}
                       for p in points]}


def republished(slug: str, version: str, name: str, base_url: str) -> republish.Document:
    get_feed(slug)
    with raw_connection() as conn:
        doc = republish.document(conn, slug, version, name, base_url)
        conn.rollback()
    if doc is None:
        raise NotFound(f"feed {slug!r} has no {name} in GBFS {version}")
    return doc
