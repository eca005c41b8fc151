"""Cases in the database: intake with owner and duplicate warning, actions with versions and
history, listing scoped by role in SQL, and the per-grid counts the public may see.

Who may see what is decided here, in the SQL that fetches rows: a grid worker's queries
carry `g.code = :scope_grid`, never a filter applied afterwards.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from gis.crs import parse_crs
from gis.errors import (
    Forbidden,
    InvalidCRS,
    InvalidInput,
    NotAuthenticated,
    NotFound,
    PreconditionRequired,
    StaleVersion,
)
from gis.lifecycle import OPEN, allowed, next_status
from gis.locate import locate_point
from gis.pointcheck import cached_extent, check_points

DUPLICATE_RADIUS_M = 50.0
DUPLICATE_DAYS = 7
MAX_TITLE, MAX_DESCRIPTION, MAX_NOTE, MAX_NAME, MAX_ADDRESS = 200, 5000, 2000, 50, 200
PHONE = re.compile(r"^\+?[0-9][0-9 \-]{4,28}[0-9]$")
SEES_PERSONAL = ("dispatcher", "admin", "grid_worker")  # a worker sees only their own grid
MASKED = ("analyst",)
_OPEN_SQL = ", ".join(f"'{s}'" for s in OPEN)  # module constants, not request values


@dataclass(frozen=True)
class Actor:
    """Who is asking: a user's name and role (and grid, for a grid worker)."""

    name: str
    role: str
    grid_code: str | None = None


PUBLIC = Actor("public", "public")

# A case's deadlines: set at intake; imported rows fall back to their category's hours.
RESPOND_BY = "coalesce(c.respond_by, c.reported_at + cc.respond_hours * interval '1 hour')"
CLOSE_BY = "coalesce(c.close_by, c.reported_at + cc.close_hours * interval '1 hour')"
# Open and past the deadline to close, or not yet handled and past the deadline to respond.
OVERDUE = f"""(c.status IN ({_OPEN_SQL}) AND (now() > {CLOSE_BY}
    OR (c.responded_at IS NULL AND c.status IN ('reported', 'registered', 'dispatched')
        AND now() > {RESPOND_BY})))"""

SELECT = f"""
SELECT c.id, c.category, cc.label AS category_label, cc.major, cc.major_label, c.title,
       c.description, c.status, c.version, c.source, c.address, c.reported_at, c.updated_at,
       c.reporter_name, c.reporter_phone, ST_X(c.geom) AS lon, ST_Y(c.geom) AS lat,
       g.code AS grid_code, g.name AS grid_name, g.leader_name AS grid_leader_name,
       g.leader_phone AS grid_leader_phone, u.code AS unit_code, u.name AS unit_name,
       c.on_boundary, c.snap_distance_m, c.responded_at, c.closed_at,
       {RESPOND_BY} AS respond_by, {CLOSE_BY} AS close_by, {OVERDUE} AS overdue,
       c.closed_at <= {CLOSE_BY} AS closed_on_time
  FROM cases c
  JOIN case_categories cc ON cc.code = c.category
  LEFT JOIN grids g ON g.id = c.grid_id
  LEFT JOIN units u ON u.id = c.unit_id
"""


def _scope(actor: Actor) -> tuple[str, dict[str, Any]]:
    """The SQL condition limiting rows to what `actor` may see."""
    if actor.role in ("dispatcher", "admin", "analyst"):
        return "TRUE", {}
    if actor.role == "grid_worker" and actor.grid_code:
        return "g.code = :scope_grid", {"scope_grid": actor.grid_code}
    raise NotAuthenticated(
        "case details need a token (Authorization: Bearer ...); without one, "
        "per-grid counts are at /api/v1/cases/counts"
    )


def mask_name(name: str | None) -> str | None:
    return None if not name else name[0] + "*" * max(1, len(name) - 1)


def mask_phone(phone: str | None) -> str | None:
    if not phone:
        return None
    digits = re.sub(r"\D", "", phone)
    return digits[:3] + "****" + digits[-2:] if len(digits) >= 7 else "****"


def _iso(v: datetime | None) -> str | None:
    return v.isoformat() if v is not None else None


def case_json(row: Any, actor: Actor) -> dict[str, Any]:
    """A case as the API shows it to `actor` (personal fields only for those who may)."""
    r = row._mapping
    out: dict[str, Any] = {
        "id": r["id"],
        "category": r["category"],
        "category_label": r["category_label"],
        "major": r["major"],
        "major_label": r["major_label"],
        "title": r["title"],
        "description": r["description"],
        "status": r["status"],
        "version": r["version"],
        "source": r["source"],
        "address": r["address"],
        "lon": round(float(r["lon"]), 7),
        "lat": round(float(r["lat"]), 7),
        "grid": {"code": r["grid_code"], "name": r["grid_name"]} if r["grid_code"] else None,
        "unit": {"code": r["unit_code"], "name": r["unit_name"]} if r["unit_code"] else None,
        "on_boundary": r["on_boundary"],
        "snap_distance_m": r["snap_distance_m"],
        "reported_at": _iso(r["reported_at"]),
        "updated_at": _iso(r["updated_at"]),
        "respond_by": _iso(r["respond_by"]),
        "close_by": _iso(r["close_by"]),
        "responded_at": _iso(r["responded_at"]),
        "closed_at": _iso(r["closed_at"]),
        "overdue": r["overdue"],
        "closed_on_time": r["closed_on_time"],
        "allowed_actions": allowed(r["status"], actor.role),
    }
    if actor.role in SEES_PERSONAL:
        out["reporter"] = {"name": r["reporter_name"], "phone": r["reporter_phone"]}
        if out["grid"] is not None:
            out["grid"]["leader"] = {"name": r["grid_leader_name"], "phone": r["grid_leader_phone"]}
    elif actor.role in MASKED:
        out["reporter"] = {
            "name": mask_name(r["reporter_name"]),
            "phone": mask_phone(r["reporter_phone"]),
        }
        if out["grid"] is not None:
            out["grid"]["leader"] = {
                "name": r["grid_leader_name"],  # a public office holder's name, not a phone
                "phone": mask_phone(r["grid_leader_phone"]),
            }
    return out


# --- intake -------------------------------------------------------------------------------


@dataclass
class NewCase:
    category: str
    title: str
    x: float
    y: float
    crs: str | None = None
    description: str | None = None
    reporter_name: str | None = None
    reporter_phone: str | None = None
    address: str | None = None


def _text(name: str, value: str | None, limit: int, required: bool = False) -> str | None:
    if value is None or not str(value).strip():
        if required:
            raise InvalidInput(f"{name} is required")
        return None
    text = str(value).strip()
    if len(text) > limit:
        raise InvalidInput(f"{name} is {len(text)} characters long: at most {limit}")
    return text


def check_new_case(conn: Connection, new: NewCase) -> tuple[float, float, dict[str, Any]]:
    """Validate a new case; its lon/lat in EPSG:4326 and category row, or InvalidInput."""
    cat = (
        conn.execute(sa.text("SELECT * FROM case_categories WHERE code = :c"), {"c": new.category})
        .mappings()
        .first()
    )
    if cat is None:
        codes = conn.execute(sa.text("SELECT code FROM case_categories ORDER BY code")).scalars()
        raise InvalidInput(
            f"unknown category {str(new.category)[:40]!r}: use one of {', '.join(codes)} "
            "(GET /api/v1/cases/categories)"
        )
    _text("title", new.title, MAX_TITLE, required=True)
    _text("description", new.description, MAX_DESCRIPTION)
    _text("reporter_name", new.reporter_name, MAX_NAME)
    _text("address", new.address, MAX_ADDRESS)
    phone = _text("reporter_phone", new.reporter_phone, 30)
    if phone and not PHONE.match(phone):
        raise InvalidInput(f"reporter_phone {phone!r} is not a phone number (digits, -, +)")
    try:
        crs = parse_crs(new.crs)
    except InvalidCRS as exc:
        raise InvalidInput(str(exc)) from None
    if not all(isinstance(v, int | float) and math.isfinite(v) for v in (new.x, new.y)):
        raise InvalidInput("the location must be two finite numbers")
    checked = check_points(np.array([new.x]), np.array([new.y]), crs, cached_extent(conn))
    if checked.problems[0]:
        raise InvalidInput(f"location: {checked.problems[0]}")
    return float(checked.lon[0]), float(checked.lat[0]), dict(cat)


def create_case(
    conn: Connection, new: NewCase, actor: Actor, source: str = "api"
) -> dict[str, Any]:
    """Insert a reported case owned by the grid and unit covering it; with likely duplicates."""
    if actor.role not in ("dispatcher", "grid_worker"):
        raise Forbidden(f"a {actor.role} may not file cases (dispatchers and grid workers may)")
    lon, lat, cat = check_new_case(conn, new)
    loc = locate_point(conn, lon, lat)
    if loc.status == "outside" or loc.grid is None:
        nearest = f"the nearest grid is {loc.nearest.code}, " if loc.nearest else ""
        raise InvalidInput(
            f"location ({lon:.6f}, {lat:.6f}) is outside every grid: {nearest}"
            f"{loc.distance_m or 0:,.0f} m away; check the coordinates and the crs"
        )
    if actor.role == "grid_worker" and loc.grid.code != actor.grid_code:
        raise Forbidden(
            f"this location belongs to grid {loc.grid.code}; a grid worker files cases "
            f"in their own grid ({actor.grid_code}) only"
        )
    row = conn.execute(
        sa.text(
            """
            INSERT INTO cases (category, title, description, status, reporter_name,
                               reporter_phone, address, geom, grid_id, unit_id, on_boundary,
                               snap_distance_m, source, respond_by, close_by)
            SELECT :category, :title, :description, 'reported', :rname, :rphone, :address,
                   ST_SetSRID(ST_MakePoint(:lon, :lat), 4326),
                   :grid_id, :unit_id,
                   :on_boundary, :snap, :source,
                   now() + :respond * interval '1 hour', now() + :close * interval '1 hour'
            RETURNING id
            """
        ),
        {
            "category": new.category,
            "title": _text("title", new.title, MAX_TITLE),
            "description": _text("description", new.description, MAX_DESCRIPTION),
            "rname": _text("reporter_name", new.reporter_name, MAX_NAME),
            "rphone": _text("reporter_phone", new.reporter_phone, 30),
            "address": _text("address", new.address, MAX_ADDRESS),
            "lon": lon,
            "lat": lat,
            "grid_id": loc.grid_id,
            "unit_id": loc.unit_id,
            "on_boundary": loc.on_boundary,
            "snap": loc.distance_m if loc.status == "snapped" else None,
            "source": source,
            "respond": cat["respond_hours"],
            "close": cat["close_hours"],
        },
    ).scalar_one()
    _history(conn, row, actor, "report", None, "reported", None)
    case = get_case(conn, row, actor)
    case["possible_duplicates"] = duplicates(conn, row, actor)
    return case


def duplicates(conn: Connection, case_id: int, actor: Actor) -> list[dict[str, Any]]:
    """Open cases of the same category within 50 m reported in the last 7 days."""
    scope, binds = _scope(actor)
    rows = conn.execute(
        sa.text(
            f"""
            WITH me AS (SELECT id, category, geom FROM cases WHERE id = :id)
            SELECT c.id, c.title, c.status, c.reported_at,
                   ST_Distance(c.geom::geography, me.geom::geography) AS distance_m
              FROM me JOIN cases c ON c.category = me.category AND c.id <> me.id
              LEFT JOIN grids g ON g.id = c.grid_id
             WHERE c.geom && ST_Expand(me.geom, 0.001)
               AND ST_DWithin(c.geom::geography, me.geom::geography, :r)
               AND c.status IN ({_OPEN_SQL})
               AND c.reported_at > now() - :days * interval '1 day'
               AND {scope}
             ORDER BY distance_m, c.id
            """
        ),
        {"id": case_id, "r": DUPLICATE_RADIUS_M, "days": DUPLICATE_DAYS, **binds},
    ).mappings()
    return [
        {
            "id": r["id"],
            "title": r["title"],
            "status": r["status"],
            "reported_at": _iso(r["reported_at"]),
            "distance_m": round(float(r["distance_m"]), 1),
        }
        for r in rows
    ]


# --- reading ------------------------------------------------------------------------------


def get_case(conn: Connection, case_id: int, actor: Actor) -> dict[str, Any]:
    scope, binds = _scope(actor)
    row = conn.execute(
        sa.text(f"{SELECT} WHERE c.id = :id AND {scope}"), {"id": case_id, **binds}
    ).first()
    if row is None:
        raise NotFound(f"no case {case_id} that you may see")
    return case_json(row, actor)


@dataclass
class CaseFilter:
    status: str | None = None
    category: str | None = None
    grid: str | None = None
    overdue: bool | None = None
    open: bool | None = None  # True: the five open stages; False: closed, evaluated, cancelled
    bbox: tuple[float, float, float, float] | None = None
    reported_after: datetime | None = None
    reported_before: datetime | None = None
    limit: int = 100
    offset: int = 0


def list_cases(conn: Connection, f: CaseFilter, actor: Actor) -> tuple[list[dict[str, Any]], int]:
    scope, binds = _scope(actor)
    where = [scope]
    if f.status:
        where.append("c.status = :status")
        binds["status"] = f.status
    if f.category:
        where.append("c.category = :category")
        binds["category"] = f.category
    if f.grid:
        where.append("g.code = :grid")
        binds["grid"] = f.grid
    if f.open is not None:
        where.append(f"c.status {'' if f.open else 'NOT '}IN ({_OPEN_SQL})")
    if f.overdue is not None:
        where.append(OVERDUE if f.overdue else f"NOT {OVERDUE}")
    if f.bbox:
        where.append("c.geom && ST_MakeEnvelope(:minx, :miny, :maxx, :maxy, 4326)")
        binds.update(zip(("minx", "miny", "maxx", "maxy"), f.bbox, strict=True))
    if f.reported_after:
        where.append("c.reported_at >= :after")
        binds["after"] = f.reported_after
    if f.reported_before:
        where.append("c.reported_at < :before")
        binds["before"] = f.reported_before
    cond = " AND ".join(where)
    rows = conn.execute(
        sa.text(f"{SELECT} WHERE {cond} ORDER BY c.id DESC LIMIT :lim OFFSET :off"),
        {**binds, "lim": f.limit, "off": f.offset},
    ).all()
    total = conn.execute(
        sa.text(
            "SELECT count(*) FROM cases c JOIN case_categories cc ON cc.code = c.category "
            f"LEFT JOIN grids g ON g.id = c.grid_id WHERE {cond}"
        ),
        binds,
    ).scalar_one()
    return [case_json(r, actor) for r in rows], int(total)


def history(conn: Connection, case_id: int, actor: Actor) -> list[dict[str, Any]]:
    get_case(conn, case_id, actor)  # 404 unless the actor may see the case
    rows = conn.execute(
        sa.text(
            "SELECT id, at, actor, actor_role, action, from_status, to_status, note "
            "FROM case_history WHERE case_id = :id ORDER BY id"
        ),
        {"id": case_id},
    ).mappings()
    return [{**dict(r), "at": _iso(r["at"])} for r in rows]


def counts_by_grid(conn: Connection) -> list[dict[str, Any]]:
    """Per current grid: cases in all and open ones (what the public may see)."""
    rows = conn.execute(
        sa.text(
            f"""
            SELECT g.code, g.name, sum(n)::bigint AS total,
                   coalesce(sum(n) FILTER (WHERE status IN ({_OPEN_SQL})), 0)::bigint AS open
              FROM grid_case_counts k JOIN grids g ON g.id = k.grid_id
             WHERE g.valid_to IS NULL
             GROUP BY g.code, g.name ORDER BY g.code
            """
        )
    ).mappings()
    return [dict(r) for r in rows]


# --- actions ------------------------------------------------------------------------------


def parse_version(if_match: str | None) -> int:
    """The case version in an If-Match header ("3", W/"3" or 3)."""
    if if_match is None or not if_match.strip():
        raise PreconditionRequired(
            "send If-Match with the case's ETag (its version), as GET /api/v1/cases/{id} gave it"
        )
    text = if_match.strip().removeprefix("W/").strip('"')
    if not text.isdigit() or len(text) > 9:
        raise PreconditionRequired(
            f'If-Match {if_match[:40]!r} is not a case version: send the ETag, e.g. "3"'
        )
    return int(text)


def act(
    conn: Connection,
    case_id: int,
    action: str,
    note: str | None,
    actor: Actor,
    if_match: str | None,
) -> dict[str, Any]:
    """Take `action` on a case at the version the caller saw; one history row per change."""
    version = parse_version(if_match)
    note = _text("note", note, MAX_NOTE)
    scope, binds = _scope(actor)
    row = conn.execute(
        sa.text(
            "SELECT c.status, c.version FROM cases c LEFT JOIN grids g ON g.id = c.grid_id "
            f"WHERE c.id = :id AND {scope} FOR UPDATE OF c"
        ),
        {"id": case_id, **binds},
    ).first()
    if row is None:
        raise NotFound(f"no case {case_id} that you may see")
    status, current = row
    if current != version:
        raise StaleVersion(
            f"case {case_id} is at version {current}, not {version}: someone changed it; "
            "GET it again and decide anew"
        )
    to = next_status(status, action, actor.role)
    conn.execute(
        sa.text(
            """
            UPDATE cases SET status = :to, version = version + 1, updated_at = now(),
                   responded_at = CASE WHEN :to = 'in_progress' AND responded_at IS NULL
                                       THEN now() ELSE responded_at END,
                   closed_at = CASE WHEN :to = 'closed' THEN now() ELSE closed_at END
             WHERE id = :id
            """
        ),
        {"to": to, "id": case_id},
    )
    _history(conn, case_id, actor, action, status, to, note)
    return get_case(conn, case_id, actor)


def _history(
    conn: Connection,
    case_id: int,
    actor: Actor,
    action: str,
    from_status: str | None,
    to_status: str,
    note: str | None,
) -> None:
    conn.execute(
        sa.text(
            "INSERT INTO case_history (case_id, actor, actor_role, action, from_status, "
            "to_status, note) VALUES (:c, :a, :r, :act, :f, :t, :n)"
        ),
        {
            "c": case_id,
            "a": actor.name,
            "r": actor.role,
            "act": action,
            "f": from_status,
            "t": to_status,
            "n": note,
        },
    )


def categories(conn: Connection) -> list[dict[str, Any]]:
    rows = conn.execute(sa.text("SELECT * FROM case_categories ORDER BY major, code")).mappings()
    return [dict(r) for r in rows]


STATS_LEVELS = {
    "grid": "g.code",
    "village": "g.village_code",
    "town": "left(g.village_code, 9) || '000'",
    "district": "left(g.village_code, 6) || '000000'",
}


def stats(
    conn: Connection, level: str, since: datetime, until: datetime | None = None
) -> list[dict[str, Any]]:
    """Per area: cases reported in [since, until), open, overdue, closed and closed on time
    (the on-time rate the city ranks grids by). Aggregates only: no case details."""
    key = STATS_LEVELS.get(level)
    if key is None:
        raise InvalidInput(f"unknown level {level[:20]!r}: use one of {', '.join(STATS_LEVELS)}")
    rows = conn.execute(
        sa.text(
            f"""
            SELECT {key} AS code, count(*) AS reported,
                   count(*) FILTER (WHERE c.status IN ({_OPEN_SQL})) AS open,
                   count(*) FILTER (WHERE {OVERDUE}) AS overdue,
                   count(*) FILTER (WHERE c.closed_at IS NOT NULL) AS closed,
                   count(*) FILTER (WHERE c.closed_at IS NOT NULL AND c.closed_at <= {CLOSE_BY})
                       AS closed_on_time
              FROM cases c
              JOIN case_categories cc ON cc.code = c.category
              JOIN grids g ON g.id = c.grid_id
             WHERE c.reported_at >= :since {"AND c.reported_at < :until" if until else ""}
             GROUP BY 1
             ORDER BY 1
            """
        ),
        {"since": since, "until": until},
    ).mappings()
    out = []
    for r in rows:
        row = dict(r)
        row["on_time_rate"] = round(r["closed_on_time"] / r["closed"], 4) if r["closed"] else None
        out.append(row)
    return out
