"""Users and their bearer tokens: a token is shown once and stored as its SHA-256."""

from __future__ import annotations

import hashlib
import secrets

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from gis.access.roles import GRID_BOUND, USER_ROLES, Actor
from gis.errors import InvalidInput, NotAuthenticated
from gis.store.settings import get_settings


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def add_user(
    conn: Connection,
    name: str,
    role: str,
    grid_code: str | None = None,
    hours: float | None = None,
) -> str:
    """Create a user (or give an existing one a new token, valid for `hours`, by default the
    settings' token_hours); the new token, shown once."""
    hours = get_settings().token_hours if hours is None else hours
    if not 0 < hours <= 24 * 366:
        raise InvalidInput(f"a token is valid for 0 to 8784 hours (a year), not {hours}")
    if role not in USER_ROLES:
        raise InvalidInput(f"unknown role {role!r}: use one of {', '.join(USER_ROLES)}")
    if (role in GRID_BOUND) != (grid_code is not None):
        raise InvalidInput(
            f"a {role} needs --grid CODE (their grid)"
            if role in GRID_BOUND
            else f"a {role} takes no grid; only {', '.join(GRID_BOUND)} are bound to one"
        )
    if grid_code is not None:
        found = conn.execute(
            sa.text("SELECT 1 FROM grids WHERE code = :g AND valid_to IS NULL"), {"g": grid_code}
        ).first()
        if found is None:
            raise InvalidInput(f"no current grid {grid_code!r}: give a 15-digit grid code")
    if not name.strip() or len(name) > 50:
        raise InvalidInput("a user's name must be 1 to 50 characters")
    token = "om_" + secrets.token_urlsafe(32)
    conn.execute(
        sa.text(
            """
            INSERT INTO users (name, role, grid_code, token_hash, expires_at)
            VALUES (:n, :r, :g, :h, now() + :hours * interval '1 hour')
            ON CONFLICT (name) DO UPDATE
               SET role = excluded.role, grid_code = excluded.grid_code,
                   token_hash = excluded.token_hash, expires_at = excluded.expires_at,
                   disabled = false
            """
        ),
        {"n": name.strip(), "r": role, "g": grid_code, "h": token_hash(token), "hours": hours},
    )
    return token


def disable_user(conn: Connection, name: str) -> None:
    done = conn.execute(sa.text("UPDATE users SET disabled = true WHERE name = :n"), {"n": name})
    if done.rowcount == 0:
        raise InvalidInput(f"no user {name!r}")


def authenticate(conn: Connection, token: str) -> Actor:
    """The actor holding `token`, or NotAuthenticated (the token itself is never echoed)."""
    if not token or len(token) > 200 or not token.isascii():  # tokens are ASCII (om_...)
        raise NotAuthenticated("the token is empty, too long or not ASCII: send Bearer TOKEN")
    row = conn.execute(
        sa.text(
            "SELECT name, role, grid_code, disabled, expires_at <= now() AS expired, "
            "expires_at FROM users WHERE token_hash = :h"
        ),
        {"h": token_hash(token)},
    ).first()
    if row is None:
        raise NotAuthenticated("unknown token: ask an admin for one (onemap users add)")
    if row.disabled:
        raise NotAuthenticated(f"the token of user {row.name!r} is disabled")
    if row.expired:
        raise NotAuthenticated(
            f"the token of user {row.name!r} expired at {row.expires_at:%Y-%m-%d %H:%M %Z}: "
            "ask an admin for a new one (onemap users add)"
        )
    return Actor(row.name, row.role, row.grid_code)
