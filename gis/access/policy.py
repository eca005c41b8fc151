"""The access policy: what each role may see (row scope and field visibility)."""

from __future__ import annotations

import re
from typing import Any

from gis.access.roles import Actor
from gis.errors import NotAuthenticated

SEES_PERSONAL = ("dispatcher", "admin", "grid_worker")  # a worker sees only their own grid
MASKED = ("analyst",)


def case_scope(actor: Actor) -> tuple[str, dict[str, Any]]:
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
