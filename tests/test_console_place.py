"""The case panel places a case that has no point: it says so, and the next map click sends
POST .../location with If-Match (oracle: PostGIS ST_Contains of the clicked spot)."""

from __future__ import annotations

import sqlalchemy as sa
from playwright.sync_api import Page
from sqlalchemy.engine import Engine

from tests.console import console, open_console, set_view, shot, wait_some
from tests.helpers import ServerProcess
from tests.test_case_place import _unlocated
from tests.test_console_live import grid_point
from tests.test_console_panel import _open_case


def _empty_spot(page: Page) -> tuple[float, float, float, float]:
    """A spot of the map with no marker or shape on it, and the map's corner."""
    box = page.locator(".folium-map").bounding_box()
    assert box is not None
    for dx, dy in ((0, 0), (60, 0), (-60, 0), (0, 60), (0, -60), (90, 90)):
        x, y = box["x"] + box["width"] / 2 + dx, box["y"] + box["height"] / 2 + dy
        hit = page.evaluate(
            "([x, y]) => document.elementFromPoint(x, y).className.toString()", [x, y]
        )
        if "marker" not in hit and "leaflet-interactive" not in hit:
            return x, y, box["x"], box["y"]
    raise AssertionError("no empty spot near the centre")


def test_panel_places_an_unlocated_case(
    writable: tuple[ServerProcess, str, Engine], chromium: str
) -> None:
    server, token, db = writable
    case = _unlocated(server, token, db)
    lon, lat = grid_point(db)
    with console(chromium, server.base) as (page, rec):
        open_console(page, server.base, token=token)
        _open_case(page, case["id"])  # the search box opens it (no point to fly to)
        note = page.get_by_test_id("case-unlocated").inner_text()
        set_view(page, lat, lon, 16)
        wait_some(page, "grids")
        page.wait_for_timeout(800)
        x, y, bx, by = _empty_spot(page)
        page.get_by_test_id("case-place").click()
        page.mouse.click(x, y)
        page.wait_for_selector(
            "[data-testid=case-panel]:not(:has([data-testid=case-unlocated]))", timeout=10_000
        )
        text = page.get_by_test_id("case-panel").inner_text()
        clicked = page.evaluate(
            "([x, y, bx, by]) => { const ll = window.map_console.containerPointToLatLng("
            "[x - bx, y - by]); return [ll.lng, ll.lat]; }",
            [x, y, bx, by],
        )
        shot(page, "console-case-placed")
    with db.connect() as conn:
        want = conn.execute(
            sa.text(
                "SELECT code FROM grids WHERE valid_to IS NULL AND "
                "ST_Contains(geom, ST_SetSRID(ST_MakePoint(:x, :y), 4326))"
            ),
            {"x": clicked[0], "y": clicked[1]},
        ).scalar_one()
        got, flag, version, action = conn.execute(
            sa.text(
                "SELECT g.code, c.needs_location, c.version, (SELECT action FROM case_history "
                "WHERE case_id = c.id ORDER BY id DESC LIMIT 1) "
                "FROM cases c JOIN grids g ON g.id = c.grid_id WHERE c.id = :id"
            ),
            {"id": case["id"]},
        ).one()
    assert "尚未定位" in note
    assert got == want and want in text and flag is False
    assert version == case["version"] + 1 and action == "place"
    assert rec.failed == [] and rec.real_errors() == []
