"""Engines for the PostGIS store: one pooled engine per URL; callers pass connections down."""

from __future__ import annotations

from functools import lru_cache

import sqlalchemy as sa
from sqlalchemy.engine import Engine, make_url

from gis.errors import DatabaseUnavailable

# A database that does not answer: refused, gone mid-statement, or no pooled connection free
# in time. The server answers these with a 503 to retry and falls back to what it holds.
UNREACHABLE = (sa.exc.OperationalError, sa.exc.InterfaceError, sa.exc.TimeoutError)
CONNECT_TIMEOUT_S = 5  # a connection the database does not accept fails within this
POOL_TIMEOUT_S = 10  # the longest a request waits for a pooled connection


def normalise_url(url: str) -> str:
    """Accept postgres:// and postgresql:// URLs and use the psycopg 3 driver."""
    u = make_url(url)
    if u.drivername in ("postgres", "postgresql", "postgresql+psycopg2"):
        u = u.set(drivername="postgresql+psycopg")
    return u.render_as_string(hide_password=False)


@lru_cache(maxsize=8)
def engine_for(url: str) -> Engine:
    """One pooled engine per database URL."""
    # hide_parameters: a failed statement's values (a reporter's name and phone) never reach
    # an exception's text, and so never the log.
    # pool_pre_ping: a connection the database dropped (a restart) is replaced on checkout.
    return sa.create_engine(
        normalise_url(url),
        pool_pre_ping=True,
        pool_size=10,
        max_overflow=20,
        pool_timeout=POOL_TIMEOUT_S,
        # A backend whose client died (a killed import) notices within a second, mid-statement
        # too, and rolls back: its locks do not outlive the job.
        connect_args={
            "connect_timeout": CONNECT_TIMEOUT_S,
            "options": "-c client_connection_check_interval=1000",
        },
        hide_parameters=True,
    )


def libpq_url(url: str) -> str:
    """A libpq connection URL (psycopg's, pg_dump's) from an SQLAlchemy one."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def database_url() -> str:
    """The app role's URL: ONEMAP_DATABASE_URL, else the project-local cluster's app role."""
    from gis.store.cluster import LocalCluster
    from gis.store.settings import get_settings

    settings = get_settings()
    if settings.database_url:
        return normalise_url(settings.database_url)
    return LocalCluster.from_settings(settings).url()


def owner_database_url() -> str:
    """The owner role's URL (migrations, restores, resets): ONEMAP_OWNER_DATABASE_URL, else
    the local cluster's owner, else (ONEMAP_DATABASE_URL alone) that one role for everything."""
    from gis.store.cluster import LocalCluster
    from gis.store.settings import get_settings

    settings = get_settings()
    if settings.owner_database_url:
        return normalise_url(settings.owner_database_url)
    if settings.database_url:
        return normalise_url(settings.database_url)
    return LocalCluster.from_settings(settings).owner_url()


@lru_cache(maxsize=1)
def get_engine() -> Engine:
    """The engine of the database in force, found once per process (finding the local
    cluster's port asks pg_ctl, far too slow to do per request)."""
    return engine_for(database_url())


def check_postgis(engine: Engine) -> str:
    """Return the PostGIS version of the database, or raise DatabaseUnavailable."""
    try:
        with engine.connect() as conn:
            return str(conn.execute(sa.text("SELECT postgis_lib_version()")).scalar_one())
    except sa.exc.OperationalError as exc:
        raise DatabaseUnavailable(
            f"cannot connect to the database at {engine.url.render_as_string(hide_password=True)}: "
            f"{str(exc.orig).strip().splitlines()[0] if exc.orig else exc}. "
            "Start the local cluster with `onemap db start` or set ONEMAP_DATABASE_URL."
        ) from exc
    except sa.exc.ProgrammingError as exc:
        raise DatabaseUnavailable(
            "the database has no PostGIS extension; run `onemap db migrate` to create it"
        ) from exc
