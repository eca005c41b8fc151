"""Live: a case created through the API appears in an open page's queue and map within 2 s,
without a reload."""

from __future__ import annotations

import time

import httpx
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from tests.console import console, open_console, set_view, shot
from tests.helpers import ServerProcess


def grid_point(db: Engine) -> tuple[float, float]:
    """A point inside a live grid (PostGIS's point on surface)."""
    with db.connect() as conn:
        x, y = conn.execute(
            sa.text(
                "SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(geom) p FROM grids "
                "WHERE valid_to IS NULL ORDER BY code LIMIT 1) s"
            )
        ).one()
    return float(x), float(y)


def test_new_case_appears_in_queue_and_map_within_2s(
    writable: tuple[ServerProcess, str, Engine], chromium: str
) -> None:
    server, token, db = writable
    lon, lat = grid_point(db)
    with console(chromium, server.base) as (page, rec):
        open_console(page, server.base, "?sort=-reported_at", token=token)
        set_view(page, lat, lon, 18)
        page.wait_for_selector("body[data-case-markers]", state="attached")
        page.wait_for_timeout(1500)  # the stream is open
        t0 = time.monotonic()
        r = httpx.post(
            server.base + "/api/v1/cases",
            json={
                "category": "sanitation",
                "title": "实时测试 live",
                "location": {"lon": lon, "lat": lat},
            },
            headers={"Authorization": f"Bearer {token}"},
            timeout=10,
        )
        assert r.status_code == 201, r.text
        case_id = r.json()["id"]
        page.wait_for_selector(f"[data-testid=case-row][data-case-id='{case_id}']", timeout=2000)
        page.wait_for_selector(f".leaflet-marker-icon[title='#{case_id}']", timeout=2000)
        elapsed = time.monotonic() - t0
        notice = page.get_by_test_id("live-notice").inner_text()
        shot(page, "console-live")
        navigations = page.evaluate("performance.getEntriesByType('navigation').length")
    assert elapsed <= 2.0
    assert str(case_id) in notice
    assert navigations == 1  # no reload
    assert rec.failed == []
