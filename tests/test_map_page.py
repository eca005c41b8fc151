"""The one-map page in a real headless Chromium: renders every boundary level, offline."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import sqlalchemy as sa
from playwright.sync_api import Page, sync_playwright
from sqlalchemy.engine import Engine

from tests.helpers import ServerProcess, layer_rows

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


def test_page_loads_all_levels_from_our_server_only(
    demo_server: ServerProcess, demo_ro: Engine, chromium: str
) -> None:
    requests: list[str] = []
    errors: list[str] = []
    with chromium_page(chromium, requests, errors) as page:
        page.goto(demo_server.base + "/map")
        page.wait_for_function("document.body.dataset.grids > 0", timeout=30_000)
        page.wait_for_function("document.body.dataset.districts > 0", timeout=30_000)
        loaded = page.evaluate("Object.assign({}, document.body.dataset)")
        assert page.locator(".leaflet-control-layers").count() == 1
    counts = layer_rows(demo_ro)
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
    assert bad.status_code == 404 and "districts" in bad.text


def test_vendor_assets_are_served(demo_server: ServerProcess) -> None:
    for path in (
        "/vendor/leaflet/leaflet.js",
        "/vendor/leaflet/leaflet.css",
        "/vendor/leaflet/images/marker-icon.png",
        "/vendor/fontawesome/css/all.min.css",
    ):
        assert httpx.get(demo_server.base + path).status_code == 200, path


def _open_map(page: Page, base: str, zoom: int) -> None:
    page.goto(base + "/map")
    page.wait_for_function("document.body.dataset.grids > 0", timeout=30_000)
    page.evaluate(
        "(z) => { const k = Object.keys(window).find(n => n.startsWith('map_'));"
        " window[k].setView([25.43, 119.01], z); }",
        zoom,
    )


FIND = (
    "(() => { const k = Object.keys(window).find(n => n.startsWith('map_'));"
    " return Object.values(window[k]._layers).filter(l => l.feature && l.getLatLng &&"
    " l.feature.properties[%s] !== undefined); })()"
)


def test_public_page_loads_tiles_and_case_counts(demo_server: ServerProcess, chromium: str) -> None:
    """Zoomed in, the catalogue's tiled layers load from /tiles; the public sees cases as
    counts per grid (no case details), and nothing leaves our server."""
    requests: list[str] = []
    errors: list[str] = []
    with chromium_page(chromium, requests, errors) as page:
        _open_map(page, demo_server.base, 15)
        for layer in ("cases", "stations", "units"):
            page.wait_for_function(f"document.body.dataset.{layer} > 0", timeout=30_000)
        counts = FIND % "'cases'"
        page.wait_for_function(f"{counts}.length > 0", timeout=30_000)
        page.evaluate(
            f"(() => {{ const c = {counts}[0]; c.fire('click', {{latlng: c.getLatLng()}}); }})()"
        )
        popup = page.locator(".leaflet-popup-content").first
        popup.wait_for(timeout=10_000)
        text = popup.inner_text()
        raw_cases = FIND % "'category'"
        assert page.evaluate(f"{raw_cases}.length") == 0
    assert "open" in text and "网格" in text and "100-0000" not in text
    assert any("/tiles/cases/15/" in u and ".geojson" in u for u in requests)
    assert errors == []
    assert all(u.startswith(demo_server.base) for u in requests)


def test_dispatcher_dispatches_from_the_map(demo_db: Engine, chromium: str) -> None:
    """With a dispatcher's token in the page, a case popup shows its owner and leader and
    the allowed actions; clicking one moves the case on (If-Match sent by the page)."""
    from gis.access.users import add_user

    with demo_db.begin() as conn:
        token = add_user(conn, "map-dispatcher", "dispatcher")
    server = ServerProcess(demo_db.url.render_as_string(hide_password=False))
    errors: list[str] = []
    requests: list[str] = []
    try:
        with chromium_page(chromium, requests, errors) as page:
            page.add_init_script(f"localStorage.setItem('onemap_token', {token!r})")
            _open_map(page, server.base, 16)
            reported = (
                FIND % "'category'" + ".filter(l => l.feature.properties.status === 'reported')"
            )
            page.wait_for_function(f"{reported}.length > 0", timeout=30_000)
            case_id = page.evaluate(
                f"(() => {{ const c = {reported}[0]; c.fire('click', {{latlng: c.getLatLng()}});"
                " return c.feature.properties.id; })()"
            )
            page.wait_for_selector(".onemap-case button[data-action='register']", timeout=10_000)
            text = page.locator(".onemap-case").inner_text()
            assert "网格长" in text and "100-0000" in text  # the dispatcher sees the leader's phone
            page.click(".onemap-case button[data-action='register']")
            page.wait_for_selector(".onemap-case button[data-action='dispatch']", timeout=10_000)
    finally:
        server.stop()
    assert errors == []
    with demo_db.connect() as conn:
        status, actor = conn.execute(
            sa.text(
                "SELECT c.status, h.actor FROM cases c JOIN case_history h ON h.case_id = c.id "
                "WHERE c.id = :i ORDER BY h.id DESC LIMIT 1"
            ),
            {"i": case_id},
        ).one()
    assert (status, actor) == ("registered", "map-dispatcher")


def test_api_docs_are_served_locally(demo_server: ServerProcess, chromium: str) -> None:
    requests: list[str] = []
    errors: list[str] = []
    with chromium_page(chromium, requests, errors) as page:
        page.goto(demo_server.base + "/docs")
        page.wait_for_selector(".opblock", timeout=30_000)
        assert page.locator(".opblock").count() > 10
    assert all(u.startswith(demo_server.base) for u in requests), requests
