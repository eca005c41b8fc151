"""The console's map draws outlines and case markers (pixels of a screenshot, not the DOM)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from tests.console import console, hex_rgb, open_console, pixels_like, set_view, shot, wait_some
from tests.helpers import ServerProcess

DISTRICT, TOWN = "#2c3e50", "#7d3c98"  # mapview.js BOUNDARIES: district and town outlines
LINES = ("#a04000", "#2980b9", "#16a085")  # village, grid and unit outlines
REPORTED = "#e74c3c"  # STAGE_COLOURS.reported (the count icons are this red too)
LEFT = 400  # the console's width: the map starts here


def test_outlines_and_case_markers_render(
    demo_server: ServerProcess, demo_ro: Engine, chromium: str, tokens: dict[str, str]
) -> None:
    with demo_ro.connect() as conn:
        lon, lat, n = conn.execute(
            sa.text(
                "SELECT ST_X(c.geom), ST_Y(c.geom), "
                " (SELECT count(*) FROM cases d WHERE d.status = 'reported'"
                "   AND ST_DWithin(d.geom, c.geom, 0.003)) "
                "FROM cases c WHERE c.status = 'reported' ORDER BY 3 DESC, c.id LIMIT 1"
            )
        ).one()
    assert n >= 1
    with console(chromium, demo_server.base) as (page, rec):
        open_console(page, demo_server.base, token=tokens["dispatcher"])
        wait_some(page, "districts")
        page.wait_for_timeout(800)
        city = shot(page, "console-city")
        set_view(page, lat, lon, 16)
        wait_some(page, "grids")
        wait_some(page, "case-markers")
        page.wait_for_timeout(800)
        street = shot(page, "console-street")
        markers = int(page.eval_on_selector("body", "b => b.dataset.caseMarkers"))
    outlines = pixels_like(city, hex_rgb(DISTRICT), LEFT) + pixels_like(city, hex_rgb(TOWN), LEFT)
    assert outlines > 1000  # district and town outlines drawn
    assert pixels_like(city, hex_rgb(REPORTED), LEFT) > 200  # per-grid count icons
    # village, grid and unit outlines: ~730-1100 pixels in this view (~25 without them)
    assert sum(pixels_like(street, hex_rgb(c), LEFT, tol=60) for c in LINES) > 500
    assert pixels_like(street, hex_rgb(REPORTED), LEFT, tol=30) > 20  # a reported case's dot
    assert markers >= n
    assert rec.failed == [] and rec.real_errors() == []
