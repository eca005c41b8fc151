"""`onemap categories`: case categories (major/minor classes) and their deadlines."""

from __future__ import annotations

import click


@click.group()
def categories() -> None:
    """Case categories (major/minor classes) and their deadlines."""


@categories.command("list")
def categories_list() -> None:
    from gis.cases.read import categories as read
    from gis.store.db import get_engine

    with get_engine().connect() as conn:
        for c in read(conn):
            click.echo(
                f"{c['major_label']}/{c['label']:10s} {c['code']:22s} "
                f"respond {c['respond_hours']:4d} h  close {c['close_hours']:4d} h"
            )


@categories.command("set")
@click.argument("code")
@click.option("--respond-hours", type=click.IntRange(1, 8760), required=True)
@click.option("--close-hours", type=click.IntRange(1, 8760), required=True)
def categories_set(code: str, respond_hours: int, close_hours: int) -> None:
    """Change a category's deadlines (for cases reported from now on)."""
    import sqlalchemy as sa

    from gis.store.db import get_engine

    if respond_hours > close_hours:
        raise click.BadParameter("--respond-hours must not exceed --close-hours")
    with get_engine().begin() as conn:
        done = conn.execute(
            sa.text(
                "UPDATE case_categories SET respond_hours = :r, close_hours = :c WHERE code = :k"
            ),
            {"r": respond_hours, "c": close_hours, "k": code},
        )
        if done.rowcount == 0:
            raise click.BadParameter(f"unknown category {code!r} (onemap categories list)")
    click.echo(f"{code}: respond within {respond_hours} h, close within {close_hours} h")
