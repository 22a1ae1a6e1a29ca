"""Read-side queries over the published stops: matches, problems, statistics and exports.

Every value is bound; the WHERE clause is assembled from fixed fragments chosen by which
filters are set. A request reads one snapshot (REPEATABLE READ), so a page, its total and
its statistics all come from the same published state, even when an import commits between
two statements.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import text

from app.extensions import db
from app.params import parse_bbox, parse_int
from matching_and_import_db.errors import InputError
from matching_and_import_db.transit.problems import PROBLEM_TYPES

MAX_LIMIT = 1000
MAX_EXPORT_ROWS = 200_000
PROBLEM_STATUSES = ("open", "resolved", "all")
ENVELOPE = "ST_MakeEnvelope(:x0, :y0, :x1, :y1, 4326)"

MATCH_COLUMNS = """m.official_id, m.osm_key, m.method, m.stage, m.score, m.distance_m,
    m.official_name, m.osm_name, m.profile_version,
    ST_X(ST_StartPoint(m.geom)) AS official_lon, ST_Y(ST_StartPoint(m.geom)) AS official_lat,
    ST_X(ST_EndPoint(m.geom)) AS osm_lon, ST_Y(ST_EndPoint(m.geom)) AS osm_lat"""

PROBLEM_FROM = """stop_problems p
    LEFT JOIN official_stops o ON o.stop_id = p.official_id
    LEFT JOIN osm_stops s ON s.osm_type = left(p.osm_key, 1)
                         AND s.osm_id = substr(p.osm_key, 2)::bigint
    LEFT JOIN stop_decisions d ON d.id = p.decision_id"""
PROBLEM_COLUMNS = """p.id, p.type, p.priority, p.official_id, p.osm_key, p.area,
    ST_X(p.geom) AS lon, ST_Y(p.geom) AS lat, p.decision_id, d.action AS decision_action,
    o.name AS official_name, o.platform_code AS official_platform,
    o.level AS official_level, o.mode AS official_mode,
    ST_X(o.geom) AS official_lon, ST_Y(o.geom) AS official_lat,
    s.name AS osm_name, s.kind AS osm_kind, coalesce(s.local_ref, s.ref) AS osm_platform,
    ST_X(s.geom) AS osm_lon, ST_Y(s.geom) AS osm_lat"""


def snapshot() -> None:
    """Read the rest of this request from one snapshot of the database. The isolation level
    is set when a transaction begins, so one already begun (loading the logged-in user)
    ends first; it only read."""
    if db.session().in_transaction():
        db.session.commit()
    db.session.connection(execution_options={"isolation_level": "REPEATABLE READ"})


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

    def where(self) -> tuple[str, dict]:
        clauses, params = ["true"], {}
        if self.type:
            clauses.append("p.type = :type")
            params["type"] = self.type
        if self.priority:
            clauses.append("p.priority = :priority")
            params["priority"] = self.priority
        if self.area:
            clauses.append("p.area = :area")
            params["area"] = self.area
        if self.bbox:
            clauses.append(f"p.geom && {ENVELOPE}")
            params.update(zip(("x0", "y0", "x1", "y1"), self.bbox, strict=True))
        if self.status == "open":
            clauses.append("p.decision_id IS NULL")
        elif self.status == "resolved":
            clauses.append("p.decision_id IS NOT NULL")
        if self.q:
            clauses.append("(p.official_id ILIKE :q OR p.osm_key ILIKE :q OR o.name ILIKE :q "
                           "OR s.name ILIKE :q)")
            escaped = self.q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            params["q"] = f"%{escaped}%"
        return " AND ".join(clauses), params


def _rows(sql: str, params: dict) -> list[dict]:
    return [dict(r) for r in db.session.execute(text(sql), params).mappings()]


def _bbox_clause(column: str, bbox) -> tuple[str, dict]:
    if not bbox:
        return "true", {}
    return f"{column} && {ENVELOPE}", dict(zip(("x0", "y0", "x1", "y1"), bbox, strict=True))


def matches(bbox, limit: int, offset: int) -> tuple[list[dict], int]:
    where, params = _bbox_clause("m.geom", bbox)
    total = db.session.execute(text(f"SELECT count(*) FROM stop_matches m WHERE {where}"),
                               params).scalar_one()
    rows = _rows(f"SELECT {MATCH_COLUMNS}, m.evidence FROM stop_matches m WHERE {where} "
                 "ORDER BY m.official_id, m.osm_key LIMIT :limit OFFSET :offset",
                 {**params, "limit": limit, "offset": offset})
    return rows, total


def problems(flt: ProblemFilter, limit: int, offset: int) -> tuple[list[dict], int]:
    where, params = flt.where()
    total = db.session.execute(text(f"SELECT count(*) FROM {PROBLEM_FROM} WHERE {where}"),
                               params).scalar_one()
    rows = _rows(f"SELECT {PROBLEM_COLUMNS}, p.evidence FROM {PROBLEM_FROM} WHERE {where} "
                 "ORDER BY p.priority, p.type, p.id LIMIT :limit OFFSET :offset",
                 {**params, "limit": limit, "offset": offset})
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
    o_where, params = _bbox_clause("o.geom", bbox)
    m_where, _ = _bbox_clause("m.geom", bbox)
    p_where, _ = _bbox_clause("p.geom", bbox)
    totals = _rows(f"""SELECT
        (SELECT count(*) FROM official_stops o WHERE {o_where}) AS official_stops,
        (SELECT count(*) FROM stop_matches m WHERE {m_where}) AS matches,
        (SELECT count(DISTINCT m.official_id) FROM stop_matches m WHERE {m_where})
            AS matched_official_stops,
        (SELECT count(DISTINCT m.osm_key) FROM stop_matches m WHERE {m_where})
            AS matched_osm_stops""", params)[0]

    def grouped(sql: str) -> dict:
        return {r["k"]: r["n"] for r in _rows(sql, params)}

    by_stage = grouped(f"SELECT m.stage AS k, count(*) AS n FROM stop_matches m "
                       f"WHERE {m_where} GROUP BY 1 ORDER BY 1")
    by_method = grouped(f"SELECT m.method AS k, count(*) AS n FROM stop_matches m "
                        f"WHERE {m_where} GROUP BY 1 ORDER BY 1")
    problem_rows = _rows(f"""SELECT p.type, p.priority, p.area, p.decision_id IS NULL AS open,
                                    count(*) AS n
                             FROM stop_problems p WHERE {p_where} GROUP BY 1, 2, 3, 4""", params)
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
    decisions = {r["status"]: r["n"] for r in _rows(
        "SELECT status, count(*) AS n FROM stop_decisions GROUP BY 1 ORDER BY 1", {})}
    last = _rows("SELECT run_id, pipeline, source, format, profile_version, counts, "
                 "published_at FROM stop_publications ORDER BY id DESC LIMIT 1", {})
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
    return _rows("SELECT area, count(*) AS n FROM stop_problems WHERE decision_id IS NULL "
                 "GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 200", {})
