"""What lies around a case, for its panel: likely duplicates, other cases nearby the caller may
see, and the nearest service stations."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from gis.access.policy import scope_sql, visible_fields
from gis.access.roles import Actor
from gis.cases.intake import duplicates
from gis.cases.read import get_case
from gis.cases.sql import CASES, TITLE, text_sql
from gis.registry.layers import get_layer
from gis.registry.vocab import CASE_STATUSES, STATION_KINDS

NEARBY_RADIUS_M = 300.0
NEARBY_MAX = 20
STATIONS_MAX = 3
STATIONS = get_layer("stations")
STATION_FIELDS = ("id", "name", "kind", "hours", "address")


def _metres(v: float) -> float:
    return round(float(v), 1)


def nearby_cases(conn: Connection, case_id: int, actor: Actor) -> list[dict[str, Any]]:
    """The newest NEARBY_MAX other cases within NEARBY_RADIUS_M that `actor` may see."""
    scope, binds = scope_sql(CASES, actor)
    rows = conn.execute(
        sa.text(
            f"""
            WITH me AS (SELECT id, geom FROM cases WHERE id = :id)
            SELECT t.id, {text_sql(TITLE, actor.role)} AS title, t.status,
                   ST_Distance(t.geom::geography, me.geom::geography) AS distance_m
              FROM me, {CASES.source}
             WHERE t.id <> me.id AND t.geom && ST_Expand(me.geom, 0.01)
               AND ST_DWithin(t.geom::geography, me.geom::geography, :r) AND {scope}
             ORDER BY t.id DESC LIMIT :n
            """
        ),
        {"id": case_id, "r": NEARBY_RADIUS_M, "n": NEARBY_MAX, **binds},
    ).mappings()
    return [
        {
            "id": r["id"],
            "title": r["title"],
            "status": r["status"],
            "stage_label": CASE_STATUSES.get(r["status"]),
            "distance_m": _metres(r["distance_m"]),
        }
        for r in rows
    ]


def nearest_stations(conn: Connection, case_id: int, actor: Actor) -> list[dict[str, Any]]:
    """The STATIONS_MAX service stations nearest the case (by distance on the ellipsoid), with
    the fields the policy lets `actor` see."""
    scope, binds = scope_sql(STATIONS, actor)
    shown = [
        (f, sql) for f, sql in visible_fields(STATIONS, actor.role) if f.name in STATION_FIELDS
    ]
    cols = ", ".join(f"{sql} AS {f.name}" for f, sql in shown)
    rows = conn.execute(
        sa.text(
            f"""
            WITH me AS (SELECT geom FROM cases WHERE id = :id)
            SELECT {cols}, ST_Distance(t.geom::geography, me.geom::geography) AS distance_m
              FROM me, {STATIONS.source}
             WHERE {STATIONS.where} AND {scope}
             ORDER BY distance_m, t.id LIMIT :n
            """
        ),
        {"id": case_id, "n": STATIONS_MAX, **binds},
    ).mappings()
    out = []
    for r in rows:
        station = {f.name: r[f.name] for f, _ in shown}
        station["kind_label"] = STATION_KINDS.get(r["kind"])
        station["distance_m"] = _metres(r["distance_m"])
        out.append(station)
    return out


def around(conn: Connection, case_id: int, actor: Actor) -> dict[str, Any]:
    """The case panel's surroundings; NotFound unless `actor` may see the case. A case still
    without a point (filed by an address too vague to place, issue 14) has none yet."""
    case = get_case(conn, case_id, actor)
    if case.get("lon") is None:
        return {"duplicates": [], "nearby": [], "stations": [], "unlocated": True}
    return {
        "duplicates": duplicates(conn, case_id, actor),
        "nearby": nearby_cases(conn, case_id, actor),
        "stations": nearest_stations(conn, case_id, actor),
    }
