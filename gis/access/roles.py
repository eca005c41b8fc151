"""The roles, what each may do, and who is asking (Actor). The one place role names are written;
what each role may see is the access policy (gis/access/policy.py)."""

from __future__ import annotations

from dataclasses import dataclass

PUBLIC_ROLE = "public"  # no token
DISPATCHER = "dispatcher"  # the command centre: every case, every action
GRID_WORKER = "grid_worker"  # one grid's worker: that grid's cases, the handling stages
ANALYST = "analyst"  # reads everything, personal data masked; acts on nothing
ADMIN = "admin"  # users, imports, quality checks; sees everything
INTAKE = "intake"  # an Open311/hotline intake key: files cases, reads what the public reads

ROLES: dict[str, str] = {
    PUBLIC_ROLE: "anyone without a token",
    DISPATCHER: "a dispatcher in the command centre (指挥中心)",
    GRID_WORKER: "a grid worker (网格员), bound to one grid",
    ANALYST: "an analyst: reads all, personal data masked, takes no action",
    ADMIN: "an administrator: users, imports, quality checks",
    INTAKE: "an intake key (Open311, a hotline): files cases, reads no more than the public",
}
USER_ROLES = tuple(r for r in ROLES if r != PUBLIC_ROLE)
"""The roles a user (a token) can have."""
GRID_BOUND = (GRID_WORKER,)
"""Roles bound to one grid (a user of this role is created with --grid CODE)."""

# What each role may do (the lifecycle's actions name these groups).
DISPATCHERS = (DISPATCHER,)
HANDLERS = (DISPATCHER, GRID_WORKER)  # the handling stages: a grid's own worker acts too
FILERS = (DISPATCHER, GRID_WORKER, INTAKE)  # may file a case (a grid worker: in their own grid)
LIMITED = (PUBLIC_ROLE, INTAKE)
"""Roles held to the public's request limits (body size, rate limits: api/limits.py)."""


@dataclass(frozen=True)
class Actor:
    """Who is asking: a user's name and role (and grid, for a grid worker)."""

    name: str
    role: str
    grid_code: str | None = None


PUBLIC = Actor(PUBLIC_ROLE, PUBLIC_ROLE)
COMMAND_LINE = Actor("command line", ADMIN)
"""Whoever runs `onemap` on the server: they hold the database's credentials, so an admin."""
