"""Reading cases as a role may see them: one case, a filtered page, its history, categories."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from gis.access.policy import HIDDEN, scope_sql, visibility
from gis.access.roles import Actor
from gis.cases.lifecycle import allowed
from gis.cases.sql import CASES, FROM, OPEN_SQL, OVERDUE, select
from gis.errors import NotFound


def iso(v: datetime | None) -> str | None:
    return v.isoformat() if v is not None else None


def _shown(name: str, actor: Actor) -> bool:
    return visibility(CASES, CASES.field(name), actor.role) != HIDDEN


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
        "reported_at": iso(r["reported_at"]),
        "updated_at": iso(r["updated_at"]),
        "respond_by": iso(r["respond_by"]),
        "close_by": iso(r["close_by"]),
        "responded_at": iso(r["responded_at"]),
        "closed_at": iso(r["closed_at"]),
        "overdue": r["overdue"],
        "closed_on_time": r["closed_on_time"],
        "allowed_actions": allowed(r["status"], actor.role),
    }
    if _shown("reporter_name", actor) or _shown("reporter_phone", actor):
        out["reporter"] = {"name": r["reporter_name"], "phone": r["reporter_phone"]}
    if out["grid"] is not None and (
        _shown("grid_leader_name", actor) or _shown("grid_leader_phone", actor)
    ):
        out["grid"]["leader"] = {"name": r["grid_leader_name"], "phone": r["grid_leader_phone"]}
    return out


def get_case(conn: Connection, case_id: int, actor: Actor) -> dict[str, Any]:
    scope, binds = scope_sql(CASES, actor)
    row = conn.execute(
        sa.text(f"{select(actor.role)} WHERE t.id = :id AND {scope}"), {"id": case_id, **binds}
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
    scope, binds = scope_sql(CASES, actor)
    where = [scope]
    if f.status:
        where.append("t.status = :status")
        binds["status"] = f.status
    if f.category:
        where.append("t.category = :category")
        binds["category"] = f.category
    if f.grid:
        where.append("g.code = :grid")
        binds["grid"] = f.grid
    if f.open is not None:
        where.append(f"t.status {'' if f.open else 'NOT '}IN ({OPEN_SQL})")
    if f.overdue is not None:
        where.append(OVERDUE if f.overdue else f"NOT {OVERDUE}")
    if f.bbox:
        where.append("t.geom && ST_MakeEnvelope(:minx, :miny, :maxx, :maxy, 4326)")
        binds.update(zip(("minx", "miny", "maxx", "maxy"), f.bbox, strict=True))
    if f.reported_after:
        where.append("t.reported_at >= :after")
        binds["after"] = f.reported_after
    if f.reported_before:
        where.append("t.reported_at < :before")
        binds["before"] = f.reported_before
    cond = " AND ".join(where)
    rows = conn.execute(
        sa.text(f"{select(actor.role)} WHERE {cond} ORDER BY t.id DESC LIMIT :lim OFFSET :off"),
        {**binds, "lim": f.limit, "off": f.offset},
    ).all()
    total = conn.execute(
        sa.text(f"SELECT count(*) {FROM} WHERE {cond}"),
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
    return [{**dict(r), "at": iso(r["at"])} for r in rows]


def categories(conn: Connection) -> list[dict[str, Any]]:
    rows = conn.execute(sa.text("SELECT * FROM case_categories ORDER BY major, code")).mappings()
    return [dict(r) for r in rows]
