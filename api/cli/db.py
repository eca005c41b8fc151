"""`onemap db`: the project-local PostGIS cluster (or the database in ONEMAP_DATABASE_URL)."""

from __future__ import annotations

import click


@click.group()
def db() -> None:
    """Manage the project-local PostGIS cluster (or the database in ONEMAP_DATABASE_URL)."""


def _cluster():  # type: ignore[no-untyped-def]
    from gis.store.cluster import LocalCluster
    from gis.store.settings import get_settings

    return LocalCluster.from_settings(get_settings())


def _external_url() -> str | None:
    from gis.store.settings import get_settings

    return get_settings().database_url


@db.command("start")
def db_start() -> None:
    """Start the local cluster (creating it the first time); prints its URL."""
    if _external_url():
        click.echo("ONEMAP_DATABASE_URL is set; the local cluster is not used.")
        return
    from sqlalchemy.engine import make_url

    cluster = _cluster()
    cluster.start()
    url = make_url(cluster.url()).render_as_string(hide_password=True)
    click.echo(f"PostGIS running: {url} (the app role; `onemap db url` prints it in full)")


@db.command("stop")
def db_stop() -> None:
    """Stop the local cluster."""
    stopped = _cluster().stop()
    click.echo("stopped" if stopped else "not running")


@db.command("status")
def db_status() -> None:
    """Say whether the database answers, and its PostGIS version and schema revision."""
    import sqlalchemy as sa

    from gis.store.db import check_postgis, get_engine

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
    """Print the app role's database URL (never the owner's or a superuser's)."""
    from gis.store.db import database_url

    click.echo(database_url())


@db.command("migrate")
def db_migrate() -> None:
    """Apply the migrations to the database in force as its owner role, then give the app
    role its privileges, table by table."""
    from gis.store.db import database_url, owner_database_url
    from gis.store.migrate import upgrade
    from gis.store.roles import role_of

    upgrade(owner_database_url(), role_of(database_url()))
    click.echo("schema is up to date")
