"""Search for the console's search box: a case id the caller may see, area codes by prefix,
and names of districts, towns, villages, grids and units (the registry's boundary layers)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from gis.access.policy import may_read_features, scope_sql
from gis.access.roles import Actor
from gis.cases.filters import as_id, like_pattern, query_text
from gis.cases.sql import CASES, TITLE, text_sql
from gis.errors import BadParameter
from gis.registry.layers import BOUNDARY_LAYERS, get_layer

MAX_RESULTS = 50
AREAS = [get_layer(name) for name in BOUNDARY_LAYERS]  # districts first, units last


def _case(conn: Connection, case_id: int, actor: Actor) -> list[dict[str, Any]]:
    """The case `case_id` when the policy lets `actor` read it."""
    if not may_read_features(CASES, actor):
        return []
    scope, binds = scope_sql(CASES, actor)
    row = conn.execute(
        sa.text(
            f"SELECT t.id, {text_sql(TITLE, actor.role)} AS title, ST_X(t.geom) AS lon, ST_Y(t.geom) AS lat "  # noqa: S608
            f"FROM {CASES.source} WHERE t.id = :id AND {scope}"
        ),
        {"id": case_id, **binds},
    ).first()
    if row is None:
        return []
    return [
        {
            "kind": "case",
            "id": row.id,
            "name": row.title,
            "lon": None if row.lon is None else round(row.lon, 7),  # None: not placed yet
            "lat": None if row.lat is None else round(row.lat, 7),
            "bbox": None,
        }
    ]


def _areas(conn: Connection, q: str, by_code: bool, limit: int) -> list[dict[str, Any]]:
    """Areas whose code starts with `q` (by_code) or whose name holds `q`, best first: an
    exact match, then a prefix, then higher levels, shorter names and lower codes."""
    if by_code:
        match, rank = "t.code LIKE :prefix", "CASE WHEN t.code = :q THEN 0 ELSE 1 END"
    else:
        match = "t.name ILIKE :pattern ESCAPE '\\'"
        rank = (
            "CASE WHEN t.name = :q THEN 0 WHEN t.name ILIKE :prefix ESCAPE '\\' THEN 1 ELSE 2 END"
        )
    parts = [
        f"SELECT '{layer.level}' AS kind, {i} AS lvl, t.code, t.name, t.geom, {rank} AS rank "  # noqa: S608
        f"FROM {layer.source} WHERE {layer.where} AND {match}"
        for i, layer in enumerate(AREAS)
    ]
    rows = conn.execute(
        sa.text(
            f"""
            WITH hits AS ({" UNION ALL ".join(parts)})
            SELECT kind, code, name, ST_X(p) AS lon, ST_Y(p) AS lat,
                   ST_XMin(geom) AS minx, ST_YMin(geom) AS miny,
                   ST_XMax(geom) AS maxx, ST_YMax(geom) AS maxy
              FROM (SELECT h.*, ST_PointOnSurface(h.geom) AS p FROM hits h
                     ORDER BY rank, lvl, char_length(name), code LIMIT :n) best
             ORDER BY rank, lvl, char_length(name), code
            """  # noqa: S608 - the registry's SQL and our constants; values are bound
        ),
        {
            "q": q,
            "prefix": like_pattern(q)[1:],  # the text, then anything
            "pattern": like_pattern(q),
            "n": limit,
        },
    ).mappings()
    return [
        {
            "kind": r["kind"],
            "code": r["code"],
            "name": r["name"],
            "lon": round(r["lon"], 7),
            "lat": round(r["lat"], 7),
            "bbox": [round(r[k], 7) for k in ("minx", "miny", "maxx", "maxy")],
        }
        for r in rows
    ]


def search(conn: Connection, raw: str | None, limit: int, actor: Actor) -> list[dict[str, Any]]:
    """What `raw` names, best first: for a number, the case with that id (if `actor` may see
    it) and the areas whose code starts with it; otherwise areas by name."""
    q = query_text("q", raw, required=True) or ""
    if not 1 <= limit <= MAX_RESULTS:
        raise BadParameter("limit", f"{limit} is out of range: give 1 to {MAX_RESULTS}")
    case_id = as_id(q)
    if case_id is None:
        return _areas(conn, q, False, limit)
    found = _case(conn, case_id, actor)
    return (found + _areas(conn, q, True, limit))[:limit]
