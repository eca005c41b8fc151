"""The `onemap` command line: database, demo city, import/export, quality checks, server."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from gis.errors import OneMapError


class OneMapGroup(click.Group):
    """Turns OneMap's domain errors into a clear message and exit status 2, not a traceback."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except OneMapError as exc:
            click.secho(f"error: {exc}", fg="red", err=True)
            sys.exit(2)


@click.group(cls=OneMapGroup)
def main() -> None:
    """OneMap (一张图): the grid-governance map of a city."""


# --- db -------------------------------------------------------------------------------
@main.group()
def db() -> None:
    """Manage the project-local PostGIS cluster (or the database in ONEMAP_DATABASE_URL)."""


def _cluster():  # type: ignore[no-untyped-def]
    from gis.cluster import LocalCluster
    from gis.settings import get_settings

    return LocalCluster.from_settings(get_settings())


def _external_url() -> str | None:
    from gis.settings import get_settings

    return get_settings().database_url


@db.command("start")
def db_start() -> None:
    """Start the local cluster (creating it the first time); prints its URL."""
    if _external_url():
        click.echo("ONEMAP_DATABASE_URL is set; the local cluster is not used.")
        return
    cluster = _cluster()
    cluster.start()
    click.echo(f"PostGIS running: {cluster.url()}")


@db.command("stop")
def db_stop() -> None:
    """Stop the local cluster."""
    stopped = _cluster().stop()
    click.echo("stopped" if stopped else "not running")


@db.command("status")
def db_status() -> None:
    """Say whether the database answers, and its PostGIS version and schema revision."""
    import sqlalchemy as sa

    from gis.db import check_postgis, get_engine

    engine = get_engine()
    version = check_postgis(engine)
    with engine.connect() as conn:
        try:
            rev = conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()
        except sa.exc.ProgrammingError:
            rev = None
    click.echo(f"database: {engine.url.render_as_string(hide_password=True)}")
    click.echo(f"postgis:  {version}")
    click.echo(f"schema:   {rev or 'not migrated (run `onemap db migrate`)'}")


@db.command("url")
def db_url() -> None:
    """Print the database URL in force."""
    from gis.db import database_url

    click.echo(database_url())


@db.command("migrate")
def db_migrate() -> None:
    """Apply the migrations to the database in force (creating PostGIS if needed)."""
    from gis.db import database_url
    from gis.migrate import upgrade

    url = database_url()
    upgrade(url)
    click.echo("schema is up to date")


if __name__ == "__main__":  # pragma: no cover
    main()
