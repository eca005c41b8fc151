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
