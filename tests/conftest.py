"""Fixtures: a real PostGIS (the project-local cluster) and fresh databases.

Each test run creates its own databases (migrated templates, copied per test) and drops them
at the end, so the demo data is never touched. The databases are owned by the owner role and
the engines and servers sign in as the app role, as in use. Nothing here skips: without
PostGIS or Chromium the session fixture fails with the reason.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from gis.demo.files import load_demo
from gis.errors import ClusterError
from gis.store.cluster import LocalCluster
from gis.store.migrate import upgrade
from gis.store.roles import APP
from tests.helpers import ServerProcess, find_chromium

ROOT = Path(__file__).resolve().parent.parent
BOUNDARIES = ROOT / "data" / "boundaries"
DEMO_NOW = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
RUN = f"onemap_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"


class Server:
    """The project-local cluster, where tests create and drop databases (as its superuser).
    Every database is owned by the owner role; tests and servers reach it as the app role,
    as the application does (`owner_url`, or helpers.as_owner, for what only the owner may)."""

    def __init__(self, cluster: LocalCluster) -> None:
        self.cluster = cluster

    def url(self, db: str) -> str:
        """`db` as the app role."""
        return self.cluster.url(db)

    def owner_url(self, db: str) -> str:
        return self.cluster.owner_url(db)

    def create(self, name: str, template: str | None = None) -> str:
        """A new database (a copy of `template`, or empty with PostGIS); its app URL."""
        self.cluster.create_database(name, template)
        return self.url(name)

    def drop(self, name: str) -> None:
        self.cluster.drop_database(name)


@pytest.fixture(scope="session")
def server() -> Server:
    """The project-local cluster (started if need be); fails (never skips) when it cannot be."""
    from gis.store.settings import get_settings

    cluster = LocalCluster.from_settings(get_settings())
    try:
        cluster.start()
        with cluster._superuser() as conn:
            avail = conn.execute(
                "SELECT 1 FROM pg_available_extensions WHERE name = 'postgis'"
            ).fetchone()
    except (psycopg.OperationalError, ClusterError) as exc:
        pytest.fail(f"the local PostgreSQL cluster is not usable: {exc}", pytrace=False)
    if not avail:
        pytest.fail(
            "PostGIS is not installed on the test server (apt-get install postgresql-15-postgis-3)",
            pytrace=False,
        )
    return Server(cluster)


@pytest.fixture(scope="session")
def chromium() -> str:
    """Chromium's executable (ONEMAP_CHROMIUM, or on PATH); fails (never skips) without one."""
    path, why = find_chromium()
    if path is None:
        pytest.fail(why, pytrace=False)
    return path


@pytest.fixture(scope="session")
def empty_template(server: Server) -> Iterator[str]:
    """A migrated, empty database to copy."""
    name = f"{RUN}_empty"
    server.create(name)
    upgrade(server.owner_url(name), APP)
    yield name
    server.drop(name)


@pytest.fixture(scope="session")
def demo_template(server: Server, empty_template: str) -> Iterator[str]:
    """A database holding the demo city (thematic layers drawn as of DEMO_NOW), to copy."""
    name = f"{RUN}_demo"
    engine = sa.create_engine(server.create(name, empty_template))
    load_demo(engine, BOUNDARIES, seed=20240917, now=DEMO_NOW)  # as the app role, as in use
    engine.dispose()
    owner = sa.create_engine(server.owner_url(name))  # only a table's owner may vacuum it
    with owner.connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT").execute(sa.text("VACUUM ANALYZE"))
    owner.dispose()
    yield name
    server.drop(name)


def _copy(server: Server, template: str) -> Iterator[Engine]:
    name = f"{RUN}_{uuid.uuid4().hex[:8]}"
    engine = sa.create_engine(server.create(name, template))
    try:
        yield engine
    finally:
        engine.dispose()
        server.drop(name)


@pytest.fixture
def empty_db(server: Server, empty_template: str) -> Iterator[Engine]:
    """A fresh migrated database with no rows."""
    yield from _copy(server, empty_template)


@pytest.fixture
def demo_db(server: Server, demo_template: str) -> Iterator[Engine]:
    """A fresh copy of the demo city that a test may change."""
    yield from _copy(server, demo_template)


@pytest.fixture(scope="session")
def demo_ro(server: Server, demo_template: str) -> Iterator[Engine]:
    """One shared copy of the demo city for tests that only read."""
    yield from _copy(server, demo_template)


@pytest.fixture(scope="session")
def demo_server(demo_ro: Engine) -> Iterator[ServerProcess]:
    """`onemap`'s HTTP server in its own process, serving the shared demo copy."""
    srv = ServerProcess(demo_ro.url.render_as_string(hide_password=False))
    yield srv
    srv.stop()


def counts(engine: Engine) -> dict[str, int]:
    """Rows in every table (all generations), to show that a refused change changed nothing."""
    tables = ["regions", "grids", "units", "cases", "hotspots", "parcels", "stations"]
    with engine.connect() as conn:
        return {t: conn.execute(sa.text(f"SELECT count(*) FROM {t}")).scalar_one() for t in tables}  # noqa: S608


@pytest.fixture(scope="session")
def tokens(demo_ro: Engine) -> dict[str, str]:
    """A token per role on the shared demo copy: dispatcher, analyst, admin, a grid worker
    of the grid with most cases ("grid_worker") and one of another grid ("other_worker")."""
    from gis.access.users import add_user

    with demo_ro.begin() as conn:
        busiest, other = conn.execute(
            sa.text(
                "SELECT g.code FROM grids g JOIN cases c ON c.grid_id = g.id "
                "WHERE g.valid_to IS NULL GROUP BY g.code ORDER BY count(*) DESC, g.code LIMIT 2"
            )
        ).scalars()
        out = {
            role: add_user(conn, f"t-{role}", role) for role in ("dispatcher", "analyst", "admin")
        }
        out["grid_worker"] = add_user(conn, "t-worker", "grid_worker", busiest)
        out["other_worker"] = add_user(conn, "t-other-worker", "grid_worker", other)
        out["worker_grid"] = busiest
        out["other_grid"] = other
    return out


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def writable(demo_db: Engine) -> Iterator[tuple[ServerProcess, str, Engine]]:
    """A server on a private copy of the demo city, with a dispatcher's token."""
    from gis.access.users import add_user

    with demo_db.begin() as conn:
        token = add_user(conn, "writable-dispatcher", "dispatcher")
    server = ServerProcess(demo_db.url.render_as_string(hide_password=False))
    yield server, token, demo_db
    server.stop()
