"""`onemap users`: users and their bearer tokens."""

from __future__ import annotations

import click

from gis.access.roles import GRID_BOUND, USER_ROLES


@click.group()
def users() -> None:
    """Users and their bearer tokens."""


@users.command("add")
@click.option("--name", required=True)
@click.option("--role", required=True, type=click.Choice(USER_ROLES))
@click.option("--grid", "grid_code", default=None, help=f"the grid of a {', '.join(GRID_BOUND)}")
@click.option(
    "--hours",
    type=float,
    default=None,
    help="how long the token is valid (default 12, ONEMAP_TOKEN_HOURS)",
)
def users_add(name: str, role: str, grid_code: str | None, hours: float | None) -> None:
    """Create a user (or renew their token) and print the token, once."""
    from gis.access.users import add_user
    from gis.store.db import get_engine

    with get_engine().begin() as conn:
        token = add_user(conn, name, role, grid_code, hours)
    click.echo(token)


@users.command("list")
def users_list() -> None:
    """Users, roles and grids (never tokens)."""
    import sqlalchemy as sa

    from gis.store.db import get_engine

    with get_engine().connect() as conn:
        for r in conn.execute(
            sa.text(
                "SELECT name, role, grid_code, disabled, expires_at, expires_at <= now() AS expired "
                "FROM users ORDER BY name"
            )
        ):
            state = " (disabled)" if r.disabled else " (expired)" if r.expired else ""
            state += f" until {r.expires_at:%Y-%m-%d %H:%M}"
            click.echo(f"{r.name:24s} {r.role:12s} {r.grid_code or '':15s}{state}")


@users.command("disable")
@click.argument("name")
def users_disable(name: str) -> None:
    """Disable (revoke) a user's token."""
    from gis.access.users import disable_user
    from gis.store.db import get_engine

    with get_engine().begin() as conn:
        disable_user(conn, name)
    click.echo(f"disabled {name}")
