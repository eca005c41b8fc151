"""The map page's plumbing: public boundary GeoJSON, local assets, the API docs offline
(the console itself: tests/test_console_*.py)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import httpx
from playwright.sync_api import Page, sync_playwright

from tests.helpers import ServerProcess

FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


@contextmanager
def chromium_page(chromium: str, requests: list[str], errors: list[str]) -> Iterator[Page]:
    """A headless Chromium page that records every request URL and every error."""
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=FLAGS)
        page = browser.new_page(viewport={"width": 1200, "height": 800})
        page.on("request", lambda r: requests.append(r.url))
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        yield page
        browser.close()


def test_boundaries_geojson_is_public_only(demo_server: ServerProcess) -> None:
    r = httpx.get(demo_server.base + "/api/v1/boundaries/units.geojson", timeout=30)
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/geo+json"
    features = r.json()["features"]
    assert len(features) >= 4000
    assert set(features[0]["properties"]) == {"code", "name", "parent_code"}
    assert "100-0000" not in r.text  # no leader phone
    bad = httpx.get(demo_server.base + "/api/v1/boundaries/leaders.geojson")
    assert bad.status_code == 404 and "districts" in bad.text


def test_vendor_assets_are_served(demo_server: ServerProcess) -> None:
    for path in (
        "/vendor/leaflet/leaflet.js",
        "/vendor/leaflet/leaflet.css",
        "/vendor/leaflet/images/marker-icon.png",
        "/vendor/markercluster/leaflet.markercluster.js",
        "/vendor/noto-sans-sc/400.css",
        "/static/console/main.js",
    ):
        assert httpx.get(demo_server.base + path).status_code == 200, path


def test_api_docs_are_served_locally(demo_server: ServerProcess, chromium: str) -> None:
    requests: list[str] = []
    errors: list[str] = []
    with chromium_page(chromium, requests, errors) as page:
        page.goto(demo_server.base + "/docs")
        page.wait_for_selector(".opblock", timeout=30_000)
        assert page.locator(".opblock").count() > 10
    assert all(u.startswith(demo_server.base) for u in requests), requests
