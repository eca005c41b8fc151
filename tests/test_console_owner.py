"""Clicking an empty spot of the map shows the owning grid (oracle: PostGIS ST_Contains)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from tests.console import console, open_console, set_view, shot, wait_some
from tests.helpers import ServerProcess
from tests.test_console_live import grid_point


def test_click_on_empty_spot_shows_the_owning_grid(
    demo_server: ServerProcess, demo_ro: Engine, chromium: str
) -> None:
    lon, lat = grid_point(demo_ro)
    with console(chromium, demo_server.base) as (page, rec):
        open_console(page, demo_server.base)
        set_view(page, lat, lon, 16)
        wait_some(page, "grids")
        page.wait_for_timeout(800)
        box = page.locator(".folium-map").bounding_box()
        assert box is not None
        spot = None
        for dx, dy in ((0, 0), (60, 0), (-60, 0), (0, 60), (0, -60), (90, 90)):
            x, y = box["x"] + box["width"] / 2 + dx, box["y"] + box["height"] / 2 + dy
            hit = page.evaluate(
                "([x, y]) => document.elementFromPoint(x, y).className.toString()", [x, y]
            )
            if "marker" not in hit and "leaflet-interactive" not in hit:
                spot = (x, y)
                break
        assert spot is not None
        page.mouse.click(*spot)
        row = page.locator("[data-testid=owner-panel] tr[data-level=grid]")
        row.wait_for(timeout=10_000)
        text = row.inner_text()
        clicked = page.evaluate(
            "([x, y, bx, by]) => { const ll = window.map_console.containerPointToLatLng("
            "[x - bx, y - by]); return [ll.lng, ll.lat]; }",
            [spot[0], spot[1], box["x"], box["y"]],
        )
        page.wait_for_selector("body[data-owner-grid]", state="attached")
        shot(page, "console-owner")
    with demo_ro.connect() as conn:
        code = conn.execute(
            sa.text(
                "SELECT code FROM grids WHERE valid_to IS NULL AND "
                "ST_Contains(geom, ST_SetSRID(ST_MakePoint(:x, :y), 4326))"
            ),
            {"x": clicked[0], "y": clicked[1]},
        ).scalar_one()
    assert code in text
    assert rec.failed == [] and rec.real_errors() == []
