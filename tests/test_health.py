"""GET /healthz over real HTTP against a real server process."""

from __future__ import annotations

import httpx
from sqlalchemy.engine import Engine

from gis.store.migrate import head_revision
from tests.helpers import ServerProcess, layer_rows


def test_healthz_reports_counts_and_postgis(demo_server: ServerProcess, demo_ro: Engine) -> None:
    r = httpx.get(demo_server.base + "/healthz")
    assert r.status_code == 200
    body = r.json()
    assert body["status"] == "ok" and body["database"] == "ok"
    assert body["postgis"].startswith("3.")
    assert body["schema_revision"] == head_revision()
    assert body["counts"] == layer_rows(demo_ro)
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
