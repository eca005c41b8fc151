"""onemap.local_map_assets: explore() maps (legends, marker clusters, icons) load every script
and style from the OneMap server's /vendor, checked in the HTML and in a real headless Chromium
that must draw the map without asking any other host."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import folium
import geopandas as gpd
import pytest
from branca.element import Figure
from folium.plugins import MarkerCluster
from playwright.sync_api import sync_playwright
from shapely.geometry import Point, box

import onemap
from gis.errors import BadParameter
from tests.helpers import ServerProcess
from tests.map_assets import assert_served_by, asset_urls
from tests.test_map_page import FLAGS


@pytest.fixture
def local_assets(demo_server: ServerProcess, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """local_map_assets for the test server; folium's CDN defaults are put back afterwards."""
    for cls in (folium.Map, MarkerCluster):
        monkeypatch.setattr(cls, "default_js", cls.default_js)
        monkeypatch.setattr(cls, "default_css", cls.default_css)
    monkeypatch.setattr(Figure, "render", Figure.render)
    onemap.local_map_assets(demo_server.base + "/")
    yield demo_server.base


def _map() -> folium.Map:
    """Three squares with a colour-scale legend (branca, d3), the same as categories (geopandas'
    legend, jQuery UI), clustered points and an awesome-marker icon."""
    squares = gpd.GeoDataFrame(
        {"score": [1.0, 2.0, 3.0], "kind": ["a", "b", "c"]},
        geometry=[box(119.0 + i * 0.01, 25.4, 119.01 + i * 0.01, 25.41) for i in range(3)],
        crs="EPSG:4326",
    )
    # without tiles Leaflet has no maxZoom, which MarkerCluster needs
    m = squares.explore(column="score", tiles=None, legend=True, map_kwds={"maxZoom": 18})
    squares.explore(m=m, column="kind", categorical=True, legend=True)
    cluster = MarkerCluster().add_to(m)
    for i in range(3):
        folium.Marker([25.405, 119.005 + i * 0.01]).add_to(cluster)
    folium.Marker([25.409, 119.02], icon=folium.Icon(icon="info-sign")).add_to(m)
    gpd.GeoDataFrame(geometry=[Point(119.015, 25.405)], crs="EPSG:4326").explore(m=m)
    return m


def test_explore_map_takes_every_asset_from_the_server(local_assets: str) -> None:
    m = _map()
    for html in (m._repr_html_(), m.get_root().render()):  # the notebook's iframe, a saved page
        urls, _ = asset_urls(html)
        assert_served_by(urls, local_assets)
        tails = {u.removeprefix(local_assets) for u in urls}
        assert {  # each library's own way in: folium's lists, branca's d3, geopandas' jQuery UI
            "/vendor/leaflet/leaflet.js",
            "/vendor/markercluster/leaflet.markercluster.js",
            "/vendor/d3/d3.min.js",
            "/vendor/jquery-ui/jquery-ui.min.js",
        } <= tails, tails


def test_a_bad_base_url_is_refused_by_name() -> None:
    with pytest.raises(BadParameter, match="base_url: 'intranet:8000' is not the http"):
        onemap.local_map_assets("intranet:8000")


def test_chromium_draws_the_saved_map_asking_only_the_server(
    local_assets: str, chromium: str, tmp_path: Path
) -> None:
    saved = tmp_path / "map.html"
    _map().save(saved)
    page_url = saved.as_uri()
    requests: list[str] = []
    failed: list[str] = []
    errors: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=FLAGS)
        page = browser.new_page(viewport={"width": 1000, "height": 700})
        page.on("request", lambda r: requests.append(r.url))
        page.on("requestfailed", lambda r: failed.append(f"{r.url} {r.failure}"))
        page.on(
            "response", lambda r: failed.append(f"{r.status} {r.url}") if r.status >= 400 else None
        )
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(page_url, wait_until="networkidle")
        drawn = page.evaluate(
            """() => ({
                leaflet: typeof L === "object" && !!L.version,
                ui: !!(window.jQuery && jQuery.ui && jQuery.fn.draggable),
                css: getComputedStyle(document.querySelector(".leaflet-container")).overflow,
                squares: document.querySelectorAll("path.leaflet-interactive").length,
                scale: document.querySelectorAll(".legend svg, svg#legend").length,
                categories: document.querySelectorAll(".maplegend li").length,
                clusters: typeof L.MarkerClusterGroup === "function",
                markers: document.querySelectorAll(".leaflet-marker-icon").length,
                icon: document.querySelectorAll(".awesome-marker .glyphicon-info-sign").length,
            })"""
        )
        page.wait_for_load_state("networkidle")
        browser.close()
    assert not [u for u in requests if u != page_url and not u.startswith(local_assets)], requests
    assert not failed and not errors, (failed, errors)
    assert drawn["leaflet"] and drawn["ui"] and drawn["css"] == "hidden", drawn
    assert drawn["squares"] >= 6 and drawn["categories"] == 3, drawn  # 3 squares, twice
    assert (
        drawn["scale"] >= 1 and drawn["clusters"] and drawn["markers"] >= 2 and drawn["icon"] == 1
    ), drawn
