"""The choropleth switch fills the grids for a period (pixels of a screenshot), public."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from tests.console import console, open_console, pixels_like, set_view, shot, wait_some
from tests.helpers import ServerProcess
from tests.test_console_live import grid_point

BACKGROUND = (0xF4, 0xF1, 0xEA)  # console.css .leaflet-container


def test_choropleth_fills_grids_by_cases(
    demo_server: ServerProcess, demo_ro: Engine, chromium: str
) -> None:
    with demo_ro.connect() as conn:
        busy = conn.execute(
            sa.text(
                "SELECT count(DISTINCT grid_id) FROM cases WHERE reported_at > now() - '365 days'::interval"
            )
        ).scalar_one()
    assert busy > 0
    lon, lat = grid_point(demo_ro)
    with console(chromium, demo_server.base) as (page, rec):
        open_console(page, demo_server.base)
        set_view(page, lat, lon, 13)
        wait_some(page, "grids")
        page.wait_for_timeout(1000)
        plain = shot(page, "console-choropleth-off")
        page.get_by_test_id("choropleth-period").select_option("365")
        page.get_by_test_id("choropleth").select_option("reported")
        page.wait_for_selector("body[data-choropleth='reported']", state="attached")
        page.wait_for_timeout(800)
        filled = shot(page, "console-choropleth")
    assert (
        pixels_like(filled, BACKGROUND, 400, tol=6)
        < pixels_like(plain, BACKGROUND, 400, tol=6) * 0.8
    )
    assert rec.failed == [] and rec.real_errors() == []
