"""`onemap backup FILE` and `onemap restore FILE`: the whole store to and from a pg_dump archive."""

from __future__ import annotations

from pathlib import Path

import click


@click.command("backup")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
def backup_cmd(file: Path) -> None:
    """Write the database in force to FILE (pg_dump custom format), read as its owner."""
    from gis.store.backup import backup
    from gis.store.db import owner_database_url

    size = backup(owner_database_url(), file)
    click.echo(f"backed up to {file} ({size / 1e6:.1f} MB)")


@click.command("restore")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="replace the database's contents without asking")
def restore_cmd(file: Path, yes: bool) -> None:
    """Replace the contents of the database in force with FILE, all or nothing (as its owner;
    the app role's privileges are given again)."""
    from gis.store.backup import restore
    from gis.store.db import database_url, owner_database_url
    from gis.store.roles import role_of

    url = owner_database_url()
    if not yes:
        click.confirm(f"replace everything in {url.rsplit('/', 1)[-1]} with {file}?", abort=True)
    restore(url, file, role_of(database_url()))
    click.echo(f"restored from {file}")
