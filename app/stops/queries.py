"""Read-side queries over the published stops: matches, problems, statistics and exports.

Every value is bound; the WHERE clause is assembled from fixed fragments chosen by which
filters are set. A request reads one snapshot (REPEATABLE READ), so a page, its total and
its statistics all come from the same published state, even when an import commits between
two statements.
"""

from __future__ import annotations

from dataclasses import dataclass

from psycopg2 import sql

from app.dbapi import fetch_dicts, fetch_one
from app.extensions import db
from app.params import parse_bbox, parse_int
from matching_and_import_db.errors import InputError
from matching_and_import_db.sqlfiles import load_sql
from matching_and_import_db.stops.problems import PROBLEM_TYPES

MAX_LIMIT = 1000
MAX_EXPORT_ROWS = 200_000
PROBLEM_STATUSES = ("open", "resolved", "all")
PACKAGE = "app.stops"


def snapshot() -> None:
    """Read the rest of this request from one snapshot of the database. The isolation level
    is set when a transaction begins, so one already begun (loading the logged-in user)
    ends first; it only read."""
    if db.session().in_transaction():
        db.session.commit()
    db.session.connection(execution_options={"isolation_level": "REPEATABLE READ"})


# the query parameters ProblemFilter reads: what paging and export links carry along
FILTER_PARAMS = ("type", "priority", "area", "bbox", "q", "status")


@dataclass(frozen=True)
class ProblemFilter:
    type: str | None = None
    priority: int | None = None
    area: str | None = None
    bbox: tuple[float, float, float, float] | None = None
    q: str | None = None
    status: str = "open"

    @classmethod
    def from_args(cls, args) -> ProblemFilter:
        problem_type = args.get("type") or None
        if problem_type and problem_type not in PROBLEM_TYPES:
            raise InputError(f"unknown problem type {problem_type!r}; one of "
                             f"{', '.join(PROBLEM_TYPES)}")
        status = args.get("status") or "open"
        if status not in PROBLEM_STATUSES:
            raise InputError(f"status must be one of {', '.join(PROBLEM_STATUSES)}")
        q = (args.get("q") or "").strip()[:200] or None
        return cls(type=problem_type,
                   priority=parse_int(args.get("priority"), "priority", None, 1, 3),
                   area=(args.get("area") or "").strip()[:30] or None,
                   bbox=parse_bbox(args.get("bbox")), q=q, status=status)

    def where(self) -> tuple[sql.Composed, dict]:
        clauses, params = [sql.SQL("true")], {}
        if self.type:
            clauses.append(sql.SQL("p.type = %(type)s"))
            params["type"] = self.type
        if self.priority:
            clauses.append(sql.SQL("p.priority = %(priority)s"))
            params["priority"] = self.priority
        if self.area:
            clauses.append(sql.SQL("p.area = %(area)s"))
            params["area"] = self.area
        if self.bbox:
            clause, box = _bbox_clause(sql.Identifier("p", "geom"), self.bbox)
            clauses.append(clause)
            params.update(box)
        if self.status == "open":
            clauses.append(sql.SQL("p.decision_id IS NULL"))
        elif self.status == "resolved":
            clauses.append(sql.SQL("p.decision_id IS NOT NULL"))
        if self.q:
            clauses.append(sql.SQL("(p.official_id ILIKE %(q)s OR p.osm_key ILIKE %(q)s "
                                   "OR o.name ILIKE %(q)s OR s.name ILIKE %(q)s)"))
            escaped = self.q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            params["q"] = f"%{escaped}%"
        return sql.SQL(" AND ").join(clauses), params


def _rows(name: str, params: dict, **parts: sql.Composable) -> list[dict]:
    return fetch_dicts(load_sql(PACKAGE, name, **parts), params)


def _count(name: str, params: dict, **parts: sql.Composable) -> int:
    return fetch_one(load_sql(PACKAGE, name, **parts), params)[0]


def _bbox_clause(column: sql.Composable, bbox) -> tuple[sql.Composed, dict]:
    if not bbox:
        return sql.Composed([sql.SQL("true")]), {}
    return (sql.SQL("{} && ST_MakeEnvelope(%(x0)s, %(y0)s, %(x1)s, %(y1)s, 4326)").format(
        column), dict(zip(("x0", "y0", "x1", "y1"), bbox, strict=True)))


def matches(bbox, limit: int, offset: int) -> tuple[list[dict], int]:
    where, params = _bbox_clause(sql.Identifier("m", "geom"), bbox)
    total = _count("match_count.sql", params, where=where)
    rows = _rows("matches.sql", {**params, "limit": limit, "offset": offset}, where=where)
    return rows, total


def problems(flt: ProblemFilter, limit: int, offset: int) -> tuple[list[dict], int]:
    where, params = flt.where()
    total = _count("problem_count.sql", params, where=where)
    rows = _rows("problems.sql", {**params, "limit": limit, "offset": offset}, where=where)
    return rows, total


def export_rows(kind: str, bbox, flt: ProblemFilter | None = None) -> list[dict]:
    """Every match or problem of the filter, for CSV and GeoJSON; refused when too many."""
    if kind == "matches":
        rows, total = matches(bbox, MAX_EXPORT_ROWS + 1, 0)
    else:
        rows, total = problems(flt, MAX_EXPORT_ROWS + 1, 0)
    if total > MAX_EXPORT_ROWS:
        raise InputError(f"{total} {kind} match the filter, more than {MAX_EXPORT_ROWS} an "
                         "export holds: narrow it with bbox")
    return rows


def statistics(bbox) -> dict:
    """Counts over the published stops (within bbox when given) and the last import."""
    o_where, params = _bbox_clause(sql.Identifier("o", "geom"), bbox)
    m_where, _ = _bbox_clause(sql.Identifier("m", "geom"), bbox)
    p_where, _ = _bbox_clause(sql.Identifier("p", "geom"), bbox)
    totals = _rows("totals.sql", params, o_where=o_where, m_where=m_where)[0]

    def grouped(name: str) -> dict:
        return {r["k"]: r["n"] for r in _rows(name, params, where=m_where)}

    by_stage = grouped("matches_by_stage.sql")
    by_method = grouped("matches_by_method.sql")
    problem_rows = _rows("problems_grouped.sql", params, where=p_where)
    by_type: dict = {}
    by_priority: dict = {}
    by_area: dict = {}
    open_count = resolved = 0
    for r in problem_rows:
        entry = by_type.setdefault(r["type"], {"open": 0, "resolved": 0})
        entry["open" if r["open"] else "resolved"] += r["n"]
        if r["open"]:
            open_count += r["n"]
            by_priority[str(r["priority"])] = by_priority.get(str(r["priority"]), 0) + r["n"]
            area = by_area.setdefault(r["area"], {})
            area[r["type"]] = area.get(r["type"], 0) + r["n"]
        else:
            resolved += r["n"]
    decisions = {r["status"]: r["n"] for r in _rows("decisions_by_status.sql", {})}
    last = _rows("last_publication.sql", {})
    if last:
        last[0]["published_at"] = last[0]["published_at"].isoformat()
    return {**totals, "matches_by_stage": by_stage, "matches_by_method": by_method,
            "problems": {"open": open_count, "resolved": resolved, "by_type": by_type,
                         "open_by_priority": by_priority,
                         "open_by_area": dict(sorted(by_area.items()))},
            "decisions": decisions, "last_import": last[0] if last else None,
            "bbox": list(bbox) if bbox else None}


def problem_areas() -> list[dict]:
    """Grid cells with open problems, most first: the area filter's choices."""
    return _rows("problem_areas.sql", {})
