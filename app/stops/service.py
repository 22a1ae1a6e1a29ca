"""Reviewers' decisions: record, keep (after a change of evidence) and withdraw.

A decision is stored apart from the imported data, keyed by the stable ids of both sides
and a hash of the evidence the reviewer saw; every import judges it again (see
matching_and_import_db.stops.store). Recording one also changes the published data at
once, so the reviewer sees its effect without waiting for the next import: a rejected pair
leaves the matches, a confirmed or hand-made pair is marked as a decision, and the problems
it settles are linked to it. The published tables are written by the domain
(matching_and_import_db.stops.review), never here; the stop layers' cached tiles over
the change go after the commit.
"""

from __future__ import annotations

from sqlalchemy import case, func, or_, select, update
from sqlalchemy.orm import aliased

from app.extensions import db
from app.maps.tiles import tile_invalidator
from app.models import StopDecision, User
from matching_and_import_db.errors import Conflict, InputError, NotFound
from matching_and_import_db.stops import review, store
from matching_and_import_db.stops.model import DECISION_ACTIONS
from matching_and_import_db.tilecache import STOPS

ATTRIBUTES = ("name", "platform_code", "operator")  # what attribute_mismatch compares
SIDES = ("official", "osm")
PAIR_LEVEL = ("confirm", "reject", "manual", "missing_in_osm", "missing_in_registry")
MAX_NOTE = 2000
LIVE = ("active", "needs_review")


def _cursor():
    """A psycopg2 cursor on the session's own connection: one transaction with the ORM."""
    return db.session.connection().connection.driver_connection.cursor()


def _sides(action: str, official_id: str | None, osm_key: str | None):
    official_id = (official_id or "").strip() or None
    osm_key = store.parse_osm_key(osm_key) if (osm_key or "").strip() else None
    if action == "missing_in_osm":
        osm_key = None
    elif action == "missing_in_registry":
        official_id = None
    if action in store.PAIR_ACTIONS and not (official_id and osm_key):
        raise InputError(f"'{action}' needs both the official stop id and the OSM stop")
    if action == "missing_in_osm" and not official_id:
        raise InputError("'missing_in_osm' needs the official stop id")
    if action == "missing_in_registry" and not osm_key:
        raise InputError("'missing_in_registry' needs the OSM stop")
    if action == "note" and not (official_id or osm_key):
        raise InputError("a note needs an official stop id or an OSM stop")
    return official_id, osm_key


def _stops(official_id: str | None, osm_key: str | None):
    """The published stops a decision names, with the evidence the reviewer sees now."""
    with _cursor() as cur:
        official = store.load_official_by_id(cur, [official_id]).get(official_id)
        osm = store.load_osm_by_key(cur, [osm_key]).get(osm_key)
    if official_id and official is None:
        raise NotFound(f"no official stop {official_id!r} in the published registry")
    if osm_key and osm is None:
        raise NotFound(f"no OSM stop {osm_key} in the published OSM data")
    return official, osm


def record_decision(user_id: int, action: str, official_id: str | None = None,
                    osm_key: str | None = None, attribute: str | None = None,
                    side: str | None = None, note: str | None = None) -> StopDecision:
    if action not in DECISION_ACTIONS:
        raise InputError(f"unknown action {action!r}; one of {', '.join(DECISION_ACTIONS)}")
    official_id, osm_key = _sides(action, official_id, osm_key)
    note = (note or "").strip()
    if len(note) > MAX_NOTE:
        raise InputError(f"a note holds at most {MAX_NOTE} characters")
    if action == "note" and not note:
        raise InputError("write the note first")
    if action == "attribute":
        if attribute not in ATTRIBUTES or side not in SIDES:
            raise InputError(f"say which attribute ({', '.join(ATTRIBUTES)}) and which side "
                             f"is right ({', '.join(SIDES)})")
    else:
        attribute = side = None
    official, osm = _stops(official_id, osm_key)
    evidence = store.stop_evidence(official, osm)
    superseded = _supersede(user_id, action, official_id, osm_key, attribute)
    decision = StopDecision(official_id=official_id, osm_key=osm_key, action=action,
                            attribute=attribute, side=side, note=note, evidence=evidence,
                            evidence_hash=store.evidence_hash(evidence), status="active",
                            created_by=user_id, updated_by=user_id)
    db.session.add(decision)
    db.session.flush()
    _apply_and_commit(decision, official, osm, superseded)
    return decision


def _supersede(user_id: int, action: str, official_id, osm_key, attribute) -> list[int]:
    """The decisions the new one replaces: the last word on a pair (or on one attribute of
    it) counts; a pair made by hand also ends "missing" on either of its stops."""
    d = StopDecision
    if action == "note":
        return []
    if action == "attribute":
        same = (d.action == "attribute") & (d.attribute == attribute) \
            & (d.official_id == official_id) & (d.osm_key == osm_key)
    else:
        same = d.action.in_(PAIR_LEVEL) & d.official_id.is_not_distinct_from(official_id) \
            & d.osm_key.is_not_distinct_from(osm_key)
        if action in ("confirm", "manual"):
            same = or_(same, (d.action == "missing_in_osm") & (d.official_id == official_id),
                       (d.action == "missing_in_registry") & (d.osm_key == osm_key))
    ids = list(db.session.scalars(
        update(d).where(same, d.status.in_(LIVE))
        .values(status="superseded", updated_by=user_id, updated_at=func.now())
        .returning(d.id)))
    return ids


def _apply_and_commit(decision: StopDecision, official, osm, superseded: list[int]) -> None:
    """The published tables change in the domain (stops.review), in this transaction;
    the stop layers' cached tiles over the change go once it commits."""
    db.session.flush()
    with _cursor() as cur:
        changed = review.apply_decision(
            cur, review.DecisionToApply(decision.id, decision.action, decision.official_id,
                                        decision.osm_key, decision.note or ""),
            official, osm, superseded)
    db.session.commit()
    tile_invalidator().changed(STOPS, changed)


def get_decision(decision_id: int) -> StopDecision:
    decision = db.session.get(StopDecision, decision_id)
    if decision is None:
        raise NotFound(f"no decision {decision_id}")
    return decision


def keep_decision(user_id: int, decision_id: int) -> StopDecision:
    """A reviewer looked at a flagged decision again and keeps it for the evidence now."""
    decision = get_decision(decision_id)
    if decision.status not in LIVE:
        raise Conflict(f"decision {decision_id} is {decision.status}; make a new one instead")
    official, osm = _stops(decision.official_id, decision.osm_key)
    decision.evidence = store.stop_evidence(official, osm)
    decision.evidence_hash = store.evidence_hash(decision.evidence)
    decision.status, decision.review_reason = "active", None
    decision.updated_by, decision.updated_at = user_id, func.now()
    db.session.flush()
    _apply_and_commit(decision, official, osm, [])
    return decision


def withdraw_decision(user_id: int, decision_id: int) -> StopDecision:
    """The decision stops counting: its problems open again now; the matches it made change
    with the next import."""
    decision = get_decision(decision_id)
    if decision.status not in LIVE:
        raise Conflict(f"decision {decision_id} is {decision.status} already")
    decision.status = "withdrawn"
    decision.updated_by, decision.updated_at = user_id, func.now()
    db.session.flush()
    with _cursor() as cur:
        changed = review.withdraw_decision(cur, decision.id)
    db.session.commit()
    tile_invalidator().changed(STOPS, changed)
    return decision


def list_decisions(status: str | None, limit: int, offset: int) -> tuple[list[dict], int]:
    """Decisions with who made and who last changed them, those needing review first."""
    d = StopDecision
    creator, updater = aliased(User), aliased(User)
    query = (select(d, func.coalesce(creator.display_name, creator.email),
                    func.coalesce(updater.display_name, updater.email))
             .outerjoin(creator, creator.id == d.created_by)
             .outerjoin(updater, updater.id == d.updated_by))
    counted = select(func.count()).select_from(d)
    if status:
        query, counted = query.where(d.status == status), counted.where(d.status == status)
    order = case({"needs_review": 0, "active": 1, "superseded": 2}, value=d.status, else_=3)
    rows = db.session.execute(query.order_by(order, d.updated_at.desc(), d.id.desc())
                              .limit(limit).offset(offset)).all()
    return ([{"decision": r[0], "created_by": r[1] or "—", "updated_by": r[2] or "—"}
             for r in rows], db.session.scalar(counted))


def decisions_needing_review() -> int:
    return db.session.scalar(select(func.count()).select_from(StopDecision)
                             .where(StopDecision.status == "needs_review"))
