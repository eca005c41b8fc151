"""Apply the Alembic migrations to a database (the schema is never built with create_all)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def alembic_config(url: str) -> Config:
    """An Alembic config pointing at OneMap's migrations and the given database."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(url: str, app_role: str | None = None, revision: str = "head") -> None:
    """Bring the database at `url` (signed in as its owner) to `revision` (default: the
    newest), then give `app_role` its privileges, table by table (gis/store/roles.py)."""
    command.upgrade(alembic_config(url), revision)
    grant(url, app_role)


def grant(url: str, app_role: str | None) -> None:
    """Re-apply the app role's privileges on the database at `url` (signed in as its owner);
    nothing when there is no separate app role (one URL for everything)."""
    import psycopg

    from gis.store.db import libpq_url
    from gis.store.roles import grant_app, role_of

    if app_role is None or app_role == role_of(url):
        return
    with psycopg.connect(libpq_url(url)) as conn:  # one transaction
        grant_app(conn, app_role)


def head_revision() -> str:
    """The newest migration's revision id."""
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config("postgresql://unused")).get_current_head()
    assert head is not None
    return head
