"""Placing a case by hand: a point (a map click) or an address the gazetteer is sure of sets
its point, grid and unit, at the version the caller saw (If-Match), with a history row."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from gis.access.roles import Actor
from gis.cases.actions import lock, record
from gis.cases.intake import check_point, owner_at, owner_binds
from gis.cases.lifecycle import PLACE, check_place
from gis.cases.read import get_case
from gis.cases.text import MAX_ADDRESS, text
from gis.errors import InvalidInput
from gis.geocode.place import place


def place_case(
    conn: Connection,
    case_id: int,
    actor: Actor,
    if_match: str | None,
    x: float | None = None,
    y: float | None = None,
    crs: str | None = None,
    address: str | None = None,
) -> dict[str, Any]:
    """Set a case's point (x, y in `crs`, or the confident match of `address`), and with it
    the grid and unit owning it (the intake's rule); clears needs_location. A located case
    may be placed again (a dispatcher corrects it): the owner follows the new point. The
    stage stays; the history gets a `place` row naming the point, the grid and the way."""
    status, _grid = lock(conn, case_id, actor, if_match)
    check_place(status, actor.role)
    precision: str | None = None
    score: float | None = None
    if address is not None:
        if x is not None or y is not None:
            raise InvalidInput("give either lon and lat or an address, not both")
        wanted = text("address", address, MAX_ADDRESS, required=True)
        placed = place(conn, str(wanted))
        if not placed.located or placed.lon is None or placed.lat is None:
            why = placed.message or placed.status
            raise InvalidInput(
                f"address {str(wanted)[:60]!r} could not be placed ({why}): give a fuller "
                "address, or lon and lat (click the map)"
            )
        lon, lat, precision, score = placed.lon, placed.lat, placed.precision, placed.score
    elif x is None or y is None:
        raise InvalidInput("give lon and lat (or x and y with a crs), or an address")
    else:
        lon, lat = check_point(conn, x, y, crs)
    loc = owner_at(conn, lon, lat)
    assert loc.grid is not None
    conn.execute(
        sa.text(
            """
            UPDATE cases SET geom = ST_SetSRID(ST_MakePoint(:lon, :lat), 4326),
                   grid_id = :grid_id, unit_id = :unit_id, on_boundary = :on_boundary,
                   snap_distance_m = :snap, needs_location = false,
                   geocode_precision = :precision, geocode_score = :score,
                   version = version + 1, updated_at = now()
             WHERE id = :id
            """
        ),
        {
            **owner_binds(lon, lat, loc),
            "precision": precision,
            "score": score,
            "id": case_id,
        },
    )
    way = f"by address {str(address)[:60]!r}" if address is not None else "on the map"
    note = f"placed {way} at ({lon:.6f}, {lat:.6f}), grid {loc.grid.code}"
    record(conn, case_id, actor, PLACE, status, status, note)
    return get_case(conn, case_id, actor)
