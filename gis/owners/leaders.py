"""The leaders of a grid and a unit as a role may see them (the access policy's field
visibility of the grids and units layers: full, masked or not at all)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from gis.access.policy import field_sql
from gis.registry.layers import get_layer

LEADER_OF = {"grid": get_layer("grids"), "unit": get_layer("units")}


def leaders_shown(role: str) -> bool:
    """Whether the policy shows `role` any leader at all (else a locate answer stays as is)."""
    return any(
        field_sql(layer, layer.field("leader_name"), role) is not None
        for layer in LEADER_OF.values()
    )


def leader(conn: Connection, level: str, code: str, role: str) -> dict[str, Any] | None:
    """{"name", "phone"} of the current `level` ("grid" or "unit") `code` as `role` sees them;
    None when the policy hides them from `role` or there is no such area."""
    layer = LEADER_OF[level]
    name = field_sql(layer, layer.field("leader_name"), role)
    phone = field_sql(layer, layer.field("leader_phone"), role)
    if name is None or phone is None:
        return None
    row = conn.execute(
        sa.text(
            f"SELECT {name} AS name, {phone} AS phone FROM {layer.source} "  # noqa: S608 - registry SQL
            f"WHERE {layer.where} AND t.code = :code"
        ),
        {"code": code},
    ).first()
    return None if row is None else {"name": row.name, "phone": row.phone}


def with_leaders(conn: Connection, answer: dict[str, Any], role: str) -> dict[str, Any]:
    """A locate answer whose grid and unit carry their leader as `role` may see them."""
    for level in LEADER_OF:
        entry = answer.get(level)
        if isinstance(entry, dict) and entry.get("code"):
            seen = leader(conn, level, entry["code"], role)
            if seen is not None:
                entry["leader"] = seen
    return answer
