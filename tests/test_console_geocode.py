"""The console's search box geocodes an address: the map flies to it and outlines its grid
(oracle: the house's point and the grid covering it, by PostGIS)."""

from __future__ import annotations

from sqlalchemy.engine import Engine

from tests.console import console, open_console, shot
from tests.helpers import ServerProcess
from tests.test_geocode_api import house


def test_search_box_flies_to_an_address(
    demo_server: ServerProcess, demo_ro: Engine, chromium: str
) -> None:
    h = house(demo_ro, 1234)
    q = f"{h['town']}{h['village']}{h['grp']}组{h['house']}号"
    with console(chromium, demo_server.base) as (page, rec):
        open_console(page, demo_server.base)
        page.get_by_test_id("search").fill(q)
        page.get_by_test_id("search").press("Enter")
        first = page.locator("#search-results li[data-kind=address]").first
        first.wait_for(timeout=15_000)
        assert h["village"] in first.inner_text() and "门牌" in first.inner_text()
        page.wait_for_selector(
            f"body[data-owner-grid='{h['grid']}']", state="attached", timeout=15_000
        )
        row = page.locator("[data-testid=owner-panel] tr[data-level=grid]")
        assert h["grid"] in row.inner_text()
        centre = page.evaluate(
            "() => { const c = window.map_console.getCenter(); "
            "return [c.lng, c.lat, window.map_console.getZoom()]; }"
        )
        shot(page, "console-geocode")
    # the map's basemap datum is WGS 84 by default: the centre is the house itself
    assert abs(centre[0] - h["lon"]) < 1e-5 and abs(centre[1] - h["lat"]) < 1e-5
    assert centre[2] >= 16
    assert rec.failed == [] and rec.real_errors() == []
