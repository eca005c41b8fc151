"""Live: a case created through the API appears in an open page's queue and map within 2 s,
without a reload; after a dropped stream the page resynchronises."""

from __future__ import annotations

import time

import httpx
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from gis.access.users import authenticate
from gis.cases.intake import NewCase, create_case
from tests.console import console, open_console, restart, set_view, shot
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


def test_dropped_stream_resynchronises(
    writable: tuple[ServerProcess, str, Engine], chromium: str
) -> None:
    """The server goes away with the page's stream open; a case is filed meanwhile (no
    server, so no event can carry it); once the stream is back the queue shows it."""
    server, token, db = writable
    lon, lat = grid_point(db)
    made: list[int] = []

    def file_a_case() -> None:
        with db.begin() as conn:
            actor = authenticate(conn, token)
            new = NewCase(category="sanitation", title="断线期间 while away", x=lon, y=lat)
            made.append(int(create_case(conn, new, actor)["id"]))

    with console(chromium, server.base) as (page, rec):
        open_console(page, server.base, "?sort=-reported_at", token=token)
        page.wait_for_selector("body[data-live='open']", state="attached", timeout=15_000)
        restart(server, db.url.render_as_string(hide_password=False), file_a_case)
        (case_id,) = made
        page.wait_for_selector(
            f"[data-testid=case-row][data-case-id='{case_id}']", state="attached", timeout=30_000
        )
        notice = page.get_by_test_id("live-notice").inner_text()
        shot(page, "console-resync")
        navigations = page.evaluate("performance.getEntriesByType('navigation').length")
    assert "重新同步" in notice  # i18n.js resynced
    assert navigations == 1  # no reload
    # While the server was away only the stream's reconnections could fail.
    assert [f for f in rec.failed if "/api/v1/cases/stream" not in f] == []
