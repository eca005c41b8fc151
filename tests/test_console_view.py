"""The map's view lives in the URL (?at=zoom/lat/lon): a link opens the same place, moving the
map rewrites it, a bad value is ignored; area labels never crowd each other."""

from __future__ import annotations

import itertools

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from tests.console import console, open_console, set_view, wait_some
from tests.helpers import ServerProcess

CELL = (96, 28)  # tiled.js LABEL_CELL: two labels' centres are at least this far apart


def _view(page) -> tuple[int, float, float]:  # type: ignore[no-untyped-def]
    z, lat, lon = page.evaluate(
        "(() => { const m = window.map_console, c = m.getCenter();"
        " return [m.getZoom(), c.lat, c.lng]; })()"
    )
    return int(z), float(lat), float(lon)


def _grid_point(engine: Engine) -> tuple[float, float]:
    """A point inside the grid with the most neighbours within ~1 km (a dense part of the city)."""
    with engine.connect() as conn:
        lon, lat = conn.execute(
            sa.text(
                "SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(g.geom) p,"
                " (SELECT count(*) FROM grids h WHERE h.valid_to IS NULL"
                "   AND h.geom && ST_Expand(g.geom, 0.01)) n"
                " FROM grids g WHERE g.valid_to IS NULL ORDER BY 2 DESC, g.id LIMIT 1) s"
            )
        ).one()
    return float(lon), float(lat)


def test_a_link_opens_the_view_and_moving_rewrites_it(
    demo_server: ServerProcess, demo_ro: Engine, chromium: str
) -> None:
    lon, lat = _grid_point(demo_ro)
    with console(chromium, demo_server.base) as (page, rec):
        open_console(page, demo_server.base, f"?at=16/{lat:.5f}/{lon:.5f}&lang=en")
        opened = _view(page)
        wait_some(page, "grids")
        set_view(page, lat + 0.01, lon - 0.02, 14)
        page.wait_for_timeout(800)
        url = page.url
        again = page.context.new_page()
        open_console(again, demo_server.base, "?" + url.split("?", 1)[1])
        reopened = _view(again)
        bad = page.context.new_page()
        open_console(bad, demo_server.base, "?at=99/north/<script>")
        city = _view(bad)
    assert opened[0] == 16 and abs(opened[1] - lat) < 1e-4 and abs(opened[2] - lon) < 1e-4
    assert f"at=14/{lat + 0.01:.5f}/{lon - 0.02:.5f}" in url and "lang=en" in url  # the rest stays
    assert reopened[0] == 14 and abs(reopened[1] - (lat + 0.01)) < 1e-4
    assert abs(reopened[2] - (lon - 0.02)) < 1e-4
    assert city[0] < 14  # not a place: the city's extent, as without `at`
    assert rec.failed == [] and rec.real_errors() == []


def test_labels_do_not_crowd(demo_server: ServerProcess, demo_ro: Engine, chromium: str) -> None:
    lon, lat = _grid_point(demo_ro)
    with console(chromium, demo_server.base) as (page, rec):
        open_console(page, demo_server.base, f"?at=15/{lat:.5f}/{lon:.5f}")
        wait_some(page, "grids")
        page.wait_for_timeout(1500)
        centres = page.evaluate(
            "Array.from(document.querySelectorAll('.map-label')).map(e => {"
            " const r = e.getBoundingClientRect(); return [r.x + r.width / 2, r.y + r.height / 2]; })"
        )
        grids = int(page.eval_on_selector("body", "b => b.dataset.grids"))
    assert len(centres) >= 5  # the grids and villages are named
    assert len(centres) < grids  # ...but not every grid at this zoom: too dense
    for (x1, y1), (x2, y2) in itertools.combinations(centres, 2):
        assert abs(x1 - x2) >= CELL[0] - 1 or abs(y1 - y2) >= CELL[1] - 1, (x1, y1, x2, y2)
    assert rec.failed == [] and rec.real_errors() == []
