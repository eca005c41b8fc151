"""The one-map page in a real headless Chromium: renders every boundary level, offline."""

from __future__ import annotations

import httpx
from playwright.sync_api import sync_playwright
from sqlalchemy.engine import Engine

from gis.health import layer_counts
from tests.helpers import ServerProcess

CHROMIUM = "/usr/bin/chromium"
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


def test_page_loads_all_levels_from_our_server_only(
    demo_server: ServerProcess, demo_ro: Engine
) -> None:
    requests: list[str] = []
    errors: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        page = browser.new_page(viewport={"width": 1200, "height": 800})
        page.on("request", lambda r: requests.append(r.url))
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.goto(demo_server.base + "/map")
        page.wait_for_function("document.body.dataset.grids > 0", timeout=30_000)
        page.wait_for_function("document.body.dataset.districts > 0", timeout=30_000)
        loaded = page.evaluate("Object.assign({}, document.body.dataset)")
        assert page.locator(".leaflet-control-layers").count() == 1
        browser.close()
    counts = layer_counts(demo_ro)
    for level in ("districts", "towns", "villages", "grids"):
        assert int(loaded[level]) == counts[level]
    assert errors == []
    assert requests and all(u.startswith(demo_server.base) for u in requests), [
        u for u in requests if not u.startswith(demo_server.base)
    ]


def test_boundaries_geojson_is_public_only(demo_server: ServerProcess) -> None:
    r = httpx.get(demo_server.base + "/api/v1/boundaries/units.geojson", timeout=30)
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/geo+json"
    features = r.json()["features"]
    assert len(features) >= 4000
    assert set(features[0]["properties"]) == {"code", "name", "parent_code"}
    assert "100-0000" not in r.text  # no leader phone
    bad = httpx.get(demo_server.base + "/api/v1/boundaries/leaders.geojson")
    assert bad.status_code == 422 and "districts" in bad.text


def test_vendor_assets_are_served(demo_server: ServerProcess) -> None:
    for path in (
        "/vendor/leaflet/leaflet.js",
        "/vendor/leaflet/leaflet.css",
        "/vendor/leaflet/images/marker-icon.png",
        "/vendor/fontawesome/css/all.min.css",
    ):
        assert httpx.get(demo_server.base + path).status_code == 200, path


def test_page_loads_thematic_tiles_with_popups(demo_server: ServerProcess) -> None:
    """Zoomed in, the catalogue's tiled layers load from /tiles and a case opens a popup
    naming its grid; no request leaves our server and no personal field is shown."""
    requests: list[str] = []
    errors: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        page = browser.new_page(viewport={"width": 1200, "height": 800})
        page.on("request", lambda r: requests.append(r.url))
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.goto(demo_server.base + "/map")
        page.wait_for_function("document.body.dataset.grids > 0", timeout=30_000)
        page.evaluate(
            "(() => { const k = Object.keys(window).find(n => n.startsWith('map_'));"
            " window[k].setView([25.43, 119.01], 15); })()"
        )
        for layer in ("cases", "stations", "units"):
            page.wait_for_function(f"document.body.dataset.{layer} > 0", timeout=30_000)
        # Markers are drawn on a canvas: click one case marker through Leaflet's own event.
        find_case = (
            "(() => { const k = Object.keys(window).find(n => n.startsWith('map_'));"
            " return Object.values(window[k]._layers).filter(l => l.feature &&"
            "   l.feature.properties.category && l.getLatLng); })()"
        )
        page.wait_for_function(f"{find_case}.length > 0", timeout=30_000)
        page.evaluate(
            f"(() => {{ const c = {find_case}[0]; c.fire('click', {{latlng: c.getLatLng()}}); }})()"
        )
        popup = page.locator(".leaflet-popup-content").first
        popup.wait_for(timeout=10_000)
        text = popup.inner_text()
        browser.close()
    assert "grid_code" in text and "reporter" not in text and "100-0000" not in text
    assert any("/tiles/cases/15/" in u and u.endswith(".geojson") for u in requests)
    assert errors == []
    assert all(u.startswith(demo_server.base) for u in requests)


def test_api_docs_are_served_locally(demo_server: ServerProcess) -> None:
    requests: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        page = browser.new_page()
        page.on("request", lambda r: requests.append(r.url))
        page.goto(demo_server.base + "/docs")
        page.wait_for_selector(".opblock", timeout=30_000)
        assert page.locator(".opblock").count() > 10
        browser.close()
    assert all(u.startswith(demo_server.base) for u in requests), requests
