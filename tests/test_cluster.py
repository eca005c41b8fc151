"""The project-local cluster: starts, is idempotent, and steps aside from a taken port."""

from __future__ import annotations

import shutil
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from gis.store.cluster import LocalCluster
from gis.store.migrate import head_revision
from tests.helpers import ROOT, free_port, run_cli


@pytest.fixture
def home() -> Iterator[Path]:
    # Under the project (not /tmp/pytest-of-root, which the unprivileged server cannot enter).
    path = ROOT / ".onemap" / "test-clusters" / uuid.uuid4().hex[:8]
    yield path
    LocalCluster(path, 1, "x").stop()
    shutil.rmtree(path, ignore_errors=True)


def test_cluster_chooses_a_free_port_and_remembers_it(home: Path) -> None:
    taken = free_port()
    squatter = socket.socket()
    squatter.bind(("127.0.0.1", taken))
    squatter.listen()  # another checkout's server on "our" port
    try:
        cluster = LocalCluster(home, taken, "onemap_here")
        port = cluster.start()
        assert port != taken
        assert int((home / "port").read_text()) == port
        assert cluster.start() == port  # idempotent
        with psycopg.connect(
            host="127.0.0.1",
            port=port,
            user="onemap_app",
            password=cluster.passwords()["onemap_app"],
            dbname="onemap_here",
        ) as conn:
            assert conn.execute("SELECT 1").fetchone() == (1,)
        assert cluster.stop() is True
        assert cluster.running_port() is None
        assert cluster.stop() is False
        # Restarted later, it comes back on the port it remembered.
        assert LocalCluster(home, taken, "onemap_here").start() == port
    finally:
        squatter.close()


def test_db_commands_against_an_external_url(empty_db) -> None:  # type: ignore[no-untyped-def]
    url = empty_db.url.render_as_string(hide_password=False)
    res = run_cli("db", "url", engine=empty_db)
    assert res.stdout.strip() == url
    res = run_cli("db", "status", engine=empty_db)
    assert res.returncode == 0 and f"schema:   {head_revision()}" in res.stdout
    res = run_cli("db", "start", engine=empty_db)
    assert "ONEMAP_DATABASE_URL is set" in res.stdout
    res = run_cli("db", "status", env={"ONEMAP_DATABASE_URL": "postgresql://x@127.0.0.1:9/none"})
    assert res.returncode == 2 and "cannot connect" in res.stderr
    assert "Traceback" not in res.stderr
