"""The roles and who is asking (Actor); the access policy (gis/access/policy.py) says what
each role may see and do."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Actor:
    """Who is asking: a user's name and role (and grid, for a grid worker)."""

    name: str
    role: str
    grid_code: str | None = None


PUBLIC = Actor("public", "public")
