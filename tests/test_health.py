"""GET /healthz over real HTTP against a real server process."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy.engine import Engine

from gis.health import layer_counts
from tests.helpers import ServerProcess, url_of


@pytest.fixture(scope="module")
def http(demo_ro: Engine) -> Iterator[ServerProcess]:
    srv = ServerProcess(url_of(demo_ro))
    yield srv
    srv.stop()


def test_healthz_reports_counts_and_postgis(http: ServerProcess, demo_ro: Engine) -> None:
    r = httpx.get(http.base + "/healthz")
    assert r.status_code == 200
    body = r.json()
    assert body["status"] == "ok" and body["database"] == "ok"
    assert body["postgis"].startswith("3.")
    assert body["schema_revision"] == "0001"
    assert body["counts"] == layer_counts(demo_ro)
    assert body["counts"]["grids"] >= 1000 and body["counts"]["cases"] >= 5000


def test_healthz_says_503_when_the_database_is_down() -> None:
    srv = ServerProcess("postgresql+psycopg://nobody@127.0.0.1:9/none")
    try:
        r = httpx.get(srv.base + "/healthz", timeout=10)
        assert r.status_code == 503
        assert r.json()["status"] == "unavailable"
        assert "cannot connect" in r.json()["database"]
    finally:
        srv.stop()
