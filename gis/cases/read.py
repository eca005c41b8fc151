"""Reading cases as a role may see them: one case, a filtered page, its history, categories."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from gis.access.policy import HIDDEN, scope_sql, visibility
from gis.access.roles import Actor
from gis.cases.filters import CaseFilter, order_sql, where_sql
from gis.cases.lifecycle import allowed
from gis.cases.sql import CASES, FROM, NOTE, select, text_sql
from gis.errors import NotFound
from gis.registry.vocab import CASE_STATUSES

__all__ = ["CaseFilter", "case_json", "categories", "get_case", "history", "list_cases"]


def iso(v: datetime | None) -> str | None:
    return v.isoformat() if v is not None else None


def _shown(name: str, actor: Actor) -> bool:
    return visibility(CASES, CASES.field(name), actor.role) != HIDDEN


def _area(code: str | None, name: str | None) -> dict[str, Any] | None:
    return {"code": code, "name": name} if code else None


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
        "stage_label": CASE_STATUSES.get(r["status"]),
        "version": r["version"],
        "source": r["source"],
        "address": r["address"],
        "lon": None if r["lon"] is None else round(float(r["lon"]), 7),
        "lat": None if r["lat"] is None else round(float(r["lat"]), 7),
        "geocode": {  # filed by address (issue 14): how sure the place is
            "precision": r["geocode_precision"],
            "score": None if r["geocode_score"] is None else round(float(r["geocode_score"]), 3),
            "needs_location": r["needs_location"],
        },
        "grid": {"code": r["grid_code"], "name": r["grid_name"]} if r["grid_code"] else None,
        "unit": {"code": r["unit_code"], "name": r["unit_name"]} if r["unit_code"] else None,
        "village": _area(r["village_code"], r["village_name"]),
        "town": _area(r["town_code"], r["town_name"]),
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


def list_cases(conn: Connection, f: CaseFilter, actor: Actor) -> tuple[list[dict[str, Any]], int]:
    """A page of the cases `actor` may see that pass `f`, in its order, and how many pass."""
    scope, binds = scope_sql(CASES, actor)
    where, more = where_sql(f, actor.role)
    cond = " AND ".join([scope, *where])
    order = order_sql(f.sort)
    # The page's ids first (the sort needs no names), then the full rows of those ids only
    # (an array: the rows are fetched by primary key, never by a scan of every case).
    rows = conn.execute(
        sa.text(
            f"""{select(actor.role)}
             WHERE t.id = ANY(ARRAY(SELECT t.id {FROM} WHERE {cond} ORDER BY {order}
                                    LIMIT :lim OFFSET :off))
             ORDER BY {order}"""
        ),
        {**binds, **more, "lim": f.limit, "off": f.offset},
    ).all()
    # The count joins the categories only when a condition reads them (the deadlines): without
    # that join the open queue's count is an index-only scan (migration 0009).
    counted = FROM if "cc." in cond else f" FROM {CASES.source}"
    total = conn.execute(
        sa.text(f"SELECT count(*) {counted} WHERE {cond}"),
        {**binds, **more},
    ).scalar_one()
    return [case_json(r, actor) for r in rows], int(total)


def history(conn: Connection, case_id: int, actor: Actor) -> list[dict[str, Any]]:
    get_case(conn, case_id, actor)  # 404 unless the actor may see the case
    rows = conn.execute(
        sa.text(
            "SELECT h.id, h.at, h.actor, h.actor_role, h.action, h.from_status, h.to_status, "
            f"{text_sql(NOTE, actor.role)} AS note FROM case_history h "
            "WHERE h.case_id = :id ORDER BY h.id"
        ),
        {"id": case_id},
    ).mappings()
    return [{**dict(r), "at": iso(r["at"])} for r in rows]


def categories(conn: Connection) -> list[dict[str, Any]]:
    rows = conn.execute(sa.text("SELECT * FROM case_categories ORDER BY major, code")).mappings()
    return [dict(r) for r in rows]
