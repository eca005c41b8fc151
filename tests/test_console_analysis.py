"""The analysts' layers on the console's map: case hotspots coloured by Gi* class, service
coverage by the distance to the nearest station of a chosen kind, and the performance grade
as a choropleth (pixels of screenshots); a clicked grid says its class and distance. Oracles:
the published rows read with SQL, and the grades the statistics API gives."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from tests.console import console, open_console, pixels_like, shot, wait_some
from tests.helpers import ServerProcess

LEFT = 400  # the console's width: the map starts here
BACKGROUND = (0xF4, 0xF1, 0xEA)  # console.css .leaflet-container
# analysis.js GI and BANDS, choropleth.js GRADES (drawn at fillOpacity 0.7 and 0.6)
GI = {"hot_99": "#b2182b", "hot_95": "#ef8a62", "cold_95": "#67a9cf", "cold_99": "#2166ac"}
BANDS = ((300, "#1a9850"), (500, "#91cf60"), (1000, "#fee08b"), (10**9, "#d73027"))
GRADES = {"A": "#1a9850", "B": "#91cf60", "C": "#fee08b", "D": "#d73027"}
LABELS = {"hot_99": "热点 99%", "hot_95": "热点 95%", "hot_90": "热点 90%", "ns": "不显著"}
KIND = "convenience_point"


def _over(colour: str, opacity: float) -> tuple[int, int, int]:
    """The colour as drawn over the map's background at this opacity."""
    rgb = [int(colour[i : i + 2], 16) for i in (1, 3, 5)]
    mixed = (round(opacity * c + (1 - opacity) * b) for c, b in zip(rgb, BACKGROUND, strict=True))
    return tuple(mixed)  # type: ignore[return-value]


def _turn_on(page, name: str) -> None:  # type: ignore[no-untyped-def]
    page.hover(".leaflet-control-layers")
    page.locator(".leaflet-control-layers-overlays label", has_text=name).locator("input").check()
    page.mouse.move(700, 400)


def _click_centre(page) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    """Click the middle of the map; the clicked point (lon, lat)."""
    box = page.locator(".folium-map").bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.click(x, y)
    lon, lat = page.evaluate(
        "([x, y]) => { const ll = window.map_console.containerPointToLatLng([x, y]);"
        " return [ll.lng, ll.lat]; }",
        [box["width"] / 2, box["height"] / 2],
    )
    return float(lon), float(lat)


def _analysis_at_centre(page) -> tuple[float, float, str]:  # type: ignore[no-untyped-def]
    """Once the map has settled, click its middle: the point, and the owner panel's analysis
    line about it."""
    page.wait_for_timeout(1500)
    lon, lat = _click_centre(page)
    row = page.locator("[data-testid=owner-panel] tr[data-level=analysis]").first
    row.wait_for(timeout=10_000)
    return lon, lat, row.inner_text()


def _grid_at(conn, lon: float, lat: float) -> int:  # type: ignore[no-untyped-def]
    return int(
        conn.execute(
            sa.text(
                "SELECT id FROM grids WHERE valid_to IS NULL AND "
                "ST_Contains(geom, ST_SetSRID(ST_MakePoint(:x, :y), 4326))"
            ),
            {"x": lon, "y": lat},
        ).scalar_one()
    )


def test_hotspots_show_by_class_and_say_it_on_click(
    demo_server: ServerProcess, demo_ro: Engine, chromium: str
) -> None:
    with demo_ro.connect() as conn:
        classes = dict(
            conn.execute(
                sa.text(
                    "SELECT h.gi_class, count(*) FROM grid_hotspots h JOIN grids g ON g.id = h.grid_id "
                    "WHERE h.subject = 'cases' AND g.valid_to IS NULL GROUP BY 1"
                )
            ).all()
        )
        hot = conn.execute(
            sa.text(
                "SELECT ST_X(p), ST_Y(p), gi_class FROM (SELECT ST_PointOnSurface(g.geom) p, "
                " h.gi_class, h.gi_z FROM grid_hotspots h JOIN grids g ON g.id = h.grid_id "
                " WHERE h.subject = 'cases' AND g.valid_to IS NULL AND h.gi_class LIKE 'hot%' "
                " ORDER BY h.gi_z DESC LIMIT 1) s"
            )
        ).one()
    assert any(c.startswith("hot") for c in classes), classes  # the demo city has hotspots
    with console(chromium, demo_server.base) as (page, rec):
        open_console(page, demo_server.base, "?at=11/25.45/119.02")
        wait_some(page, "districts")
        _turn_on(page, "案件热点")
        wait_some(page, "case_hotspots")
        page.wait_for_timeout(1000)
        city = shot(page, "console-case-hotspots")
        legend = page.locator("[data-legend=case_hotspots]").is_visible()
        drawn = int(page.eval_on_selector("body", "b => b.dataset.case_hotspots"))
        page.evaluate(
            "([lat, lon]) => { window.map_console.setView([lat, lon], 15, {animate: false}); }",
            [hot[1], hot[0]],
        )
        lon, lat, said = _analysis_at_centre(page)
    with demo_ro.connect() as conn:
        grid = _grid_at(conn, lon, lat)
        cls = conn.execute(
            sa.text("SELECT gi_class FROM grid_hotspots WHERE subject = 'cases' AND grid_id = :g"),
            {"g": grid},
        ).scalar_one()
    assert legend
    assert drawn == sum(classes.values())  # every current grid's row came with the tiles
    for c, colour in GI.items():
        if classes.get(c, 0) >= 3:
            assert pixels_like(city, _over(colour, 0.7), LEFT, tol=12) > 20, c
    assert "案件热点" in said and LABELS.get(cls, cls) in said
    assert rec.failed == [] and rec.real_errors() == []


def test_coverage_bands_follow_the_chosen_kind(
    demo_server: ServerProcess, demo_ro: Engine, chromium: str
) -> None:
    with demo_ro.connect() as conn:
        metres = [
            float(m)
            for m in conn.execute(
                sa.text(f"SELECT {KIND}_m FROM grid_coverage WHERE {KIND}_m IS NOT NULL")  # noqa: S608
            ).scalars()
        ]
    assert metres
    with console(chromium, demo_server.base) as (page, rec):
        open_console(page, demo_server.base, "?at=11/25.45/119.02")
        wait_some(page, "districts")
        _turn_on(page, "服务覆盖")
        wait_some(page, "coverage")
        page.get_by_test_id("coverage-kind").select_option(KIND)
        page.wait_for_selector(f"body[data-coverage-kind={KIND}]", state="attached")
        page.wait_for_timeout(1000)
        city = shot(page, "console-coverage")
        page.evaluate("() => { window.map_console.setZoom(15, {animate: false}); }")
        lon, lat, said = _analysis_at_centre(page)
    with demo_ro.connect() as conn:
        grid = _grid_at(conn, lon, lat)
        nearest = conn.execute(
            sa.text(f"SELECT {KIND}_m FROM grid_coverage WHERE id = :g"),  # noqa: S608
            {"g": grid},
        ).scalar_one()
    low = 0
    for up_to, colour in BANDS:
        n = sum(low < m <= up_to for m in metres)
        if n >= 5:
            assert pixels_like(city, _over(colour, 0.7), LEFT, tol=12) > 20, (up_to, n)
        low = up_to
    assert "便民服务点" in said and f"{round(nearest)} m" in said
    assert rec.failed == [] and rec.real_errors() == []


def test_performance_grades_as_a_choropleth(
    demo_server: ServerProcess, demo_ro: Engine, chromium: str
) -> None:
    with console(chromium, demo_server.base) as (page, rec):
        open_console(page, demo_server.base, "?at=13/25.45/119.02")
        wait_some(page, "grids")
        page.wait_for_timeout(1000)
        page.get_by_test_id("choropleth-period").select_option("365")
        page.get_by_test_id("choropleth").select_option("score")
        page.wait_for_selector("body[data-choropleth='score']", state="attached")
        page.wait_for_timeout(1000)
        graded = shot(page, "console-choropleth-score")
        w, s, e, n = page.evaluate(
            "(() => { const b = window.map_console.getBounds();"
            " return [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()]; })()"
        )
    since = (datetime.now(UTC) - timedelta(days=365)).isoformat()
    r = httpx.get(f"{demo_server.base}/api/v1/stats/kpis", params={"by": "grid", "since": since})
    assert r.status_code == 200, r.text
    with demo_ro.connect() as conn:
        in_view = set(
            conn.execute(
                sa.text(
                    "SELECT code FROM grids WHERE valid_to IS NULL AND "
                    "ST_Within(ST_PointOnSurface(geom), ST_MakeEnvelope(:w, :s, :e, :n, 4326))"
                ),
                {"w": w + 0.01, "s": s + 0.005, "e": e - 0.01, "n": n - 0.005},
            ).scalars()
        )
    graded_here = [a.get("grade") for code, a in r.json()["areas"].items() if code in in_view]
    counts = {g: graded_here.count(g) for g in GRADES}
    assert sum(counts.values()) > 0, "grids in view have performance grades"
    for g, colour in GRADES.items():
        if counts[g] >= 3:
            assert pixels_like(graded, _over(colour, 0.6), LEFT, tol=12) > 20, (g, counts)
    assert rec.failed == [] and rec.real_errors() == []
