"""The one-map page in a real headless Chromium: renders every boundary level, offline."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import sync_playwright
from sqlalchemy.engine import Engine

from gis.health import layer_counts
from tests.helpers import ServerProcess, url_of

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


@pytest.fixture(scope="module")
def http(demo_ro: Engine) -> Iterator[ServerProcess]:
    srv = ServerProcess(url_of(demo_ro))
    yield srv
    srv.stop()


def test_page_loads_all_levels_from_our_server_only(http: ServerProcess, demo_ro: Engine) -> None:
    requests: list[str] = []
    errors: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        page = browser.new_page(viewport={"width": 1200, "height": 800})
        page.on("request", lambda r: requests.append(r.url))
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.goto(http.base + "/map")
        page.wait_for_function("document.body.dataset.grids > 0", timeout=30_000)
        page.wait_for_function("document.body.dataset.districts > 0", timeout=30_000)
        loaded = page.evaluate("Object.assign({}, document.body.dataset)")
        assert page.locator(".leaflet-control-layers").count() == 1
        browser.close()
    counts = layer_counts(demo_ro)
    for level in ("districts", "towns", "villages", "grids"):
        assert int(loaded[level]) == counts[level]
    assert errors == []
    assert requests and all(u.startswith(http.base) for u in requests), [
        u for u in requests if not u.startswith(http.base)
    ]


def test_boundaries_geojson_is_public_only(http: ServerProcess) -> None:
    r = httpx.get(http.base + "/api/v1/boundaries/units.geojson", timeout=30)
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/geo+json"
    features = r.json()["features"]
    assert len(features) >= 4000
    assert set(features[0]["properties"]) == {"code", "name", "parent_code"}
    assert "100-0000" not in r.text  # no leader phone
    bad = httpx.get(http.base + "/api/v1/boundaries/leaders.geojson")
    assert bad.status_code == 422 and "districts" in bad.text


def test_vendor_assets_are_served(http: ServerProcess) -> None:
    for path in (
        "/vendor/leaflet/leaflet.js",
        "/vendor/leaflet/leaflet.css",
        "/vendor/leaflet/images/marker-icon.png",
        "/vendor/fontawesome/css/all.min.css",
    ):
        assert httpx.get(http.base + path).status_code == 200, path
