"""Case intake: a new case checked, owned by the grid and unit covering it, with likely
duplicates nearby."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

import numpy as np
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from gis.access.policy import OWN_GRID, in_scope, may_read_features, row_scope, scope_sql
from gis.access.roles import FILERS, Actor
from gis.cases.actions import record
from gis.cases.read import get_case, iso
from gis.cases.sql import CASES, OPEN_SQL, TITLE, text_sql
from gis.cases.text import MAX_ADDRESS, MAX_DESCRIPTION, MAX_NAME, MAX_TITLE, text
from gis.crs.systems import parse_crs
from gis.errors import Forbidden, InvalidCRS, InvalidInput
from gis.geocode.place import Placement, place
from gis.owners.locate import locate_point
from gis.owners.model import Location as LocatedPoint
from gis.owners.pointcheck import cached_extent, check_points

DUPLICATE_RADIUS_M = 50.0
DUPLICATE_DAYS = 7
PHONE = re.compile(r"^\+?[0-9][0-9 \-]{4,28}[0-9]$")


@dataclass
class NewCase:
    category: str
    title: str
    x: float | None  # None with y: filed by `address` alone (placed by gis/geocode)
    y: float | None
    crs: str | None = None
    description: str | None = None
    reporter_name: str | None = None
    reporter_phone: str | None = None
    address: str | None = None


def check_new_case(
    conn: Connection, new: NewCase
) -> tuple[float | None, float | None, dict[str, Any]]:
    """Validate a new case; its lon/lat in EPSG:4326 (None: filed by address) and category
    row, or InvalidInput."""
    category = text("category", new.category, 40, required=True)
    cat = (
        conn.execute(sa.text("SELECT * FROM case_categories WHERE code = :c"), {"c": category})
        .mappings()
        .first()
    )
    if cat is None:
        codes = conn.execute(sa.text("SELECT code FROM case_categories ORDER BY code")).scalars()
        raise InvalidInput(
            f"unknown category {str(new.category)[:40]!r}: use one of {', '.join(codes)} "
            "(GET /api/v1/cases/categories)"
        )
    text("title", new.title, MAX_TITLE, required=True)
    text("description", new.description, MAX_DESCRIPTION)
    text("reporter_name", new.reporter_name, MAX_NAME)
    text("address", new.address, MAX_ADDRESS)
    phone = text("reporter_phone", new.reporter_phone, 30)
    if phone and not PHONE.match(phone):
        raise InvalidInput(f"reporter_phone {phone!r} is not a phone number (digits, -, +)")
    if new.x is None and new.y is None:
        if not text("address", new.address, MAX_ADDRESS):
            raise InvalidInput("give the location (coordinates) or the address")
        return None, None, dict(cat)
    lon, lat = check_point(conn, new.x, new.y, new.crs)
    return lon, lat, dict(cat)


def check_point(conn: Connection, x: Any, y: Any, crs_text: str | None) -> tuple[float, float]:
    """A point given in `crs_text` (as /api/v1/locate takes it) as lon/lat in EPSG:4326, or
    InvalidInput naming what is wrong."""
    try:
        crs = parse_crs(crs_text)
    except InvalidCRS as exc:
        raise InvalidInput(str(exc)) from None
    if not all(isinstance(v, int | float) and math.isfinite(v) for v in (x, y)):
        raise InvalidInput("the location must be two finite numbers")
    checked = check_points(np.array([x]), np.array([y]), crs, cached_extent(conn))
    if checked.problems[0]:
        raise InvalidInput(f"location: {checked.problems[0]}")
    return float(checked.lon[0]), float(checked.lat[0])


def owner_at(conn: Connection, lon: float, lat: float) -> LocatedPoint:
    """The grid and unit owning a point (the intake's rule), or InvalidInput when it lies
    outside every grid."""
    loc = locate_point(conn, lon, lat)
    if loc.status == "outside" or loc.grid is None:
        nearest = f"the nearest grid is {loc.nearest.code}, " if loc.nearest else ""
        raise InvalidInput(
            f"location ({lon:.6f}, {lat:.6f}) is outside every grid: {nearest}"
            f"{loc.distance_m or 0:,.0f} m away; check the coordinates and the crs"
        )
    return loc


def owner_binds(lon: float, lat: float, loc: LocatedPoint) -> dict[str, Any]:
    """A case's point and owners as bound parameters (:lon, :lat, :grid_id, :unit_id,
    :on_boundary, :snap: the distance when snapped)."""
    return {
        "lon": lon,
        "lat": lat,
        "grid_id": loc.grid_id,
        "unit_id": loc.unit_id,
        "on_boundary": loc.on_boundary,
        "snap": loc.distance_m if loc.status == "snapped" else None,
    }


def _filed(new: NewCase, source: str, cat: Any) -> dict[str, Any]:
    """What a reporter filed as bound parameters, each text checked and cut to its limit, and
    the category's deadlines (:respond, :close hours)."""
    return {
        "category": new.category,
        "title": text("title", new.title, MAX_TITLE),
        "description": text("description", new.description, MAX_DESCRIPTION),
        "rname": text("reporter_name", new.reporter_name, MAX_NAME),
        "rphone": text("reporter_phone", new.reporter_phone, 30),
        "address": text("address", new.address, MAX_ADDRESS),
        "source": source,
        "respond": cat["respond_hours"],
        "close": cat["close_hours"],
    }


def create_case(
    conn: Connection, new: NewCase, actor: Actor, source: str = "api"
) -> dict[str, Any]:
    """Insert a reported case owned by the grid and unit covering it; with likely duplicates."""
    if actor.role not in FILERS:
        raise Forbidden(f"a {actor.role} may not file cases ({', '.join(FILERS)} may)")
    lon, lat, cat = check_new_case(conn, new)
    placed = None
    if lon is None or lat is None:  # filed by address: placed when the geocoder is sure
        placed = place(conn, str(new.address))
        if not placed.located:
            return _unlocated(conn, new, actor, source, cat, placed)
        lon, lat = placed.lon, placed.lat
        assert lon is not None and lat is not None
    loc = owner_at(conn, lon, lat)
    assert loc.grid is not None
    if row_scope(CASES, actor) == OWN_GRID and not in_scope(CASES, actor, loc.grid.code):
        raise Forbidden(
            f"this location belongs to grid {loc.grid.code}; a grid worker files cases "
            f"in their own grid ({actor.grid_code}) only"
        )
    row = conn.execute(
        sa.text(
            """
            INSERT INTO cases (category, title, description, status, reporter_name,
                               reporter_phone, address, geom, grid_id, unit_id, on_boundary,
                               snap_distance_m, source, respond_by, close_by,
                               geocode_precision, geocode_score)
            SELECT :category, :title, :description, 'reported', :rname, :rphone, :address,
                   ST_SetSRID(ST_MakePoint(:lon, :lat), 4326),
                   :grid_id, :unit_id,
                   :on_boundary, :snap, :source,
                   now() + :respond * interval '1 hour', now() + :close * interval '1 hour',
                   :precision, :score
            RETURNING id
            """
        ),
        {
            **_filed(new, source, cat),
            **owner_binds(lon, lat, loc),
            "precision": placed.precision if placed else None,
            "score": placed.score if placed else None,
        },
    ).scalar_one()
    record(conn, row, actor, "report", None, "reported", None)
    if not may_read_features(CASES, actor):  # an intake key: a receipt, nothing it may not read
        by = conn.execute(sa.text("SELECT respond_by FROM cases WHERE id = :id"), {"id": row})
        return {
            "id": row,
            "version": 1,
            "status": "reported",
            "grid": {"code": loc.grid.code},
            "respond_by": iso(by.scalar_one()),
        }
    case = get_case(conn, row, actor)
    case["possible_duplicates"] = duplicates(conn, row, actor)
    return case


def _unlocated(
    conn: Connection,
    new: NewCase,
    actor: Actor,
    source: str,
    cat: dict[str, Any],
    placed: Placement,
) -> dict[str, Any]:
    """A case whose address could not be placed with confidence: kept without a point or
    grid, flagged (needs_location) for a person to place, with the best match's precision
    and score. A grid worker files in their own grid only, so may not file one."""
    if row_scope(CASES, actor) == OWN_GRID:
        raise Forbidden(
            f"this address could not be placed in a grid ({placed.message or placed.status}); "
            "a grid worker files cases in their own grid: give the coordinates"
        )
    if placed.status == "outside":
        raise InvalidInput(f"address: {placed.message}")
    row = conn.execute(
        sa.text(
            """
            INSERT INTO cases (category, title, description, status, reporter_name,
                               reporter_phone, address, geom, source, respond_by, close_by,
                               geocode_precision, geocode_score, needs_location)
            VALUES (:category, :title, :description, 'reported', :rname, :rphone, :address,
                    NULL, :source, now() + :respond * interval '1 hour',
                    now() + :close * interval '1 hour', :precision, :score, true)
            RETURNING id
            """
        ),
        {**_filed(new, source, cat), "precision": placed.precision, "score": placed.score},
    ).scalar_one()
    record(conn, row, actor, "report", None, "reported", placed.message or None)
    if not may_read_features(CASES, actor):
        by = conn.execute(sa.text("SELECT respond_by FROM cases WHERE id = :id"), {"id": row})
        return {
            "id": row,
            "version": 1,
            "status": "reported",
            "grid": None,
            "needs_location": True,
            "respond_by": iso(by.scalar_one()),
        }
    return get_case(conn, row, actor)


def duplicates(conn: Connection, case_id: int, actor: Actor) -> list[dict[str, Any]]:
    """Open cases of the same category within 50 m reported in the last 7 days."""
    scope, binds = scope_sql(CASES, actor)
    rows = conn.execute(
        sa.text(
            f"""
            WITH me AS (SELECT id, category, geom FROM cases WHERE id = :id)
            SELECT t.id, {text_sql(TITLE, actor.role)} AS title, t.status, t.reported_at,
                   ST_Distance(t.geom::geography, me.geom::geography) AS distance_m
              FROM me CROSS JOIN {CASES.source}
             WHERE t.category = me.category AND t.id <> me.id
               AND t.geom && ST_Expand(me.geom, 0.001)
               AND ST_DWithin(t.geom::geography, me.geom::geography, :r)
               AND t.status IN ({OPEN_SQL})
               AND t.reported_at > now() - :days * interval '1 day'
               AND {scope}
             ORDER BY distance_m, t.id
            """
        ),
        {"id": case_id, "r": DUPLICATE_RADIUS_M, "days": DUPLICATE_DAYS, **binds},
    ).mappings()
    return [
        {
            "id": r["id"],
            "title": r["title"],
            "status": r["status"],
            "reported_at": iso(r["reported_at"]),
            "distance_m": round(float(r["distance_m"]), 1),
        }
        for r in rows
    ]
