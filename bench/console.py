"""(e) The dispatcher's console on the scaled city, in headless Chromium against `onemap serve`.

The scaled city (10,000 grids, 50,000 units, 1,000,000 cases, ...) is loaded as for (d) and
served by uvicorn with two workers. A dispatcher, signed in through POST /api/v1/session,
opens the console at grid zoom on the busiest grid:

- first render: from the navigation to the link of that view (/map?at=13/lat/lon, what a
  shared link or a reload opens) to the grid outlines and the per-grid case counts drawn
  (body[data-ready], a queue row, body data-grids and data-cases above 0, every tile and API
  request of the page answered and drawn); median of 5 cold page loads, each in a new browser
  context (empty HTTP cache; the first one also on a server with an empty tile cache);
  goal <= 1.5 s; also, as before, opening /map at the city's extent and then zooming there;
- the largest single response the page downloads meanwhile (bytes on the wire); goal <= 500 KB;
- live: from POST /api/v1/cases to the new case's row in the open page's queue (sorted newest
  first); median of 10; goal <= 1 s.
"""

from __future__ import annotations

import os
import shutil
import statistics
import sys
import time
from dataclasses import dataclass

import httpx
import sqlalchemy as sa
from playwright.sync_api import Browser, Page, Request, sync_playwright
from sqlalchemy.engine import Engine

from bench.common import scaled_city, scaled_database
from bench.tiles import load, serving
from gis.access.users import add_user
from tests.test_map_page import FLAGS

GRID_ZOOM = 13  # mapview.js BOUNDARIES: grid outlines from z13 (case counts from z10)
COUNTS = "/api/v1/cases/counts.geojson?"  # the view's case counts (one request per view)
# Fewer for a quick try: BENCH_LOADS=1 BENCH_CREATIONS=2 (measure(url) reuses a loaded database).
LOADS = int(os.environ.get("BENCH_LOADS", "5"))
CREATIONS = int(os.environ.get("BENCH_CREATIONS", "10"))
GOAL_RENDER_S, GOAL_BYTES, GOAL_LIVE_S = 1.5, 500_000, 1.0
TIMEOUT_MS = 60_000


def busiest_grid(engine: Engine) -> tuple[float, float]:
    """A point inside the grid holding the most cases (lon, lat)."""
    with engine.connect() as conn:
        x, y = conn.execute(
            sa.text(
                "SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(geom) p FROM grids "
                " WHERE id = (SELECT grid_id FROM cases GROUP BY grid_id ORDER BY count(*) DESC LIMIT 1)"
                ") s"
            )
        ).one()
    return float(x), float(y)


@dataclass
class Traffic:
    """The page's requests in flight and those answered (the live stream left out)."""

    pending: set[Request]
    done: list[Request]

    def watch(self, page: Page) -> None:
        page.on("request", self.started)
        page.on("requestfinished", self.finished)
        page.on("requestfailed", self.failed)

    def started(self, r: Request) -> None:
        if "/stream" not in r.url:
            self.pending.add(r)

    def failed(self, r: Request) -> None:
        self.pending.discard(r)

    def finished(self, r: Request) -> None:
        self.pending.discard(r)
        self.done.append(r)


def wait_drawn(page: Page, traffic: Traffic, zoom: int) -> None:
    """Wait until grids and case counts are drawn at `zoom` and nothing is in flight."""
    for attr in ("grids", "cases"):
        page.wait_for_selector(
            f"body[data-{attr}]:not([data-{attr}='0'])", state="attached", timeout=TIMEOUT_MS
        )
    deadline = time.monotonic() + TIMEOUT_MS / 1000

    def counted(url: str) -> bool:
        return COUNTS in url and f"zoom={zoom}" in url

    while traffic.pending or not any(counted(r.url) for r in traffic.done):
        if time.monotonic() > deadline:
            raise RuntimeError(f"still loading: {[r.url for r in traffic.pending][:3]}")
        page.wait_for_timeout(5)
    # The last answers are parsed and drawn in the page's next tasks: let a frame pass.
    page.evaluate("() => new Promise(r => requestAnimationFrame(() => setTimeout(r, 0)))")


@dataclass
class Load:
    """One cold page load: seconds to the opening view and to grids and cases at GRID_ZOOM,
    the largest response and the slowest request (to see what dominates)."""

    opened: float
    drawn: float
    requests: int
    tiles: int
    biggest: tuple[int, str]
    slowest: tuple[float, str]


def cold_load(
    browser: Browser, base: str, token: str, lon: float, lat: float, direct: bool = True
) -> Load:
    """A new browser context signs in and opens /map at GRID_ZOOM on (lon, lat): `direct`, by
    the link of that view (?at=zoom/lat/lon); else at the city's extent, then zooms there."""
    context = browser.new_context(viewport={"width": 1400, "height": 860})
    try:
        r = context.request.post(base + "/api/v1/session", data={"token": token})
        if not r.ok:
            raise RuntimeError(f"sign-in failed: {r.status} {r.text()}")
        page = context.new_page()
        traffic = Traffic(set(), [])
        traffic.watch(page)
        started = time.perf_counter()
        at = f"?at={GRID_ZOOM}/{lat:.5f}/{lon:.5f}" if direct else ""
        page.goto(base + "/map" + at, wait_until="commit")
        page.wait_for_selector("body[data-ready='true']", state="attached", timeout=TIMEOUT_MS)
        page.get_by_test_id("case-row").first.wait_for(timeout=TIMEOUT_MS)
        opened = time.perf_counter() - started
        if not direct:
            page.evaluate(
                # a block, not an arrow's value: Playwright would serialise the whole map back
                "([lat, lon, z]) => { window.map_console.setView([lat, lon], z, {animate: false}); }",
                [lat, lon, GRID_ZOOM],
            )
        wait_drawn(page, traffic, GRID_ZOOM)
        drawn = time.perf_counter() - started
        return Load(
            opened,
            drawn,
            len(traffic.done),
            sum("/tiles/" in r.url for r in traffic.done),
            max((q.sizes()["responseBodySize"], q.url) for q in traffic.done),
            max((q.timing["responseEnd"], q.url) for q in traffic.done),
        )
    finally:
        context.close()


def live_delays(browser: Browser, base: str, token: str, lon: float, lat: float) -> list[float]:
    """Seconds from POST /api/v1/cases to the case's row in an open page's queue."""
    context = browser.new_context(viewport={"width": 1400, "height": 860})
    delays: list[float] = []
    try:
        context.request.post(base + "/api/v1/session", data={"token": token})
        page = context.new_page()
        page.goto(base + "/map?sort=-reported_at")
        page.wait_for_selector("body[data-ready='true']", state="attached", timeout=TIMEOUT_MS)
        page.get_by_test_id("case-row").first.wait_for(timeout=TIMEOUT_MS)
        page.wait_for_timeout(2000)  # the live stream is open
        with httpx.Client(base_url=base, timeout=30) as client:
            for i in range(CREATIONS):
                started = time.perf_counter()
                r = client.post(
                    "/api/v1/cases",
                    json={
                        "category": "sanitation",
                        "title": f"bench live {i}",
                        "location": {"lon": lon, "lat": lat},
                    },
                    headers={"Authorization": f"Bearer {token}"},
                )
                if r.status_code != 201:
                    raise RuntimeError(f"POST /api/v1/cases: {r.status_code} {r.text}")
                page.wait_for_selector(
                    f"[data-testid=case-row][data-case-id='{r.json()['id']}']",
                    state="attached",
                    timeout=TIMEOUT_MS,
                )
                delays.append(time.perf_counter() - started)
                page.wait_for_timeout(300)
    finally:
        context.close()
    return delays


def measure(url: str) -> dict[str, float]:
    """The three figures against a loaded database at `url` (served here, two workers)."""
    chromium = shutil.which("chromium")
    if not chromium:
        sys.exit("chromium is not installed: make setup SYSTEM_EXTRAS=chromium")
    engine = sa.create_engine(url)
    try:
        lon, lat = busiest_grid(engine)
        with engine.begin() as conn:
            token = add_user(conn, "bench-dispatcher", "dispatcher")
    finally:
        engine.dispose()
    argv = [sys.executable, "-m", "uvicorn", "api.app:app"]
    load_before = os.getloadavg()[0]
    with serving(argv, {"ONEMAP_DATABASE_URL": url}, "/livez") as base, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=FLAGS)
        loads = [cold_load(browser, base, token, lon, lat) for _ in range(LOADS)]
        zooms = [cold_load(browser, base, token, lon, lat, direct=False) for _ in range(LOADS)]
        delays = live_delays(browser, base, token, lon, lat)
        browser.close()
    load_after = os.getloadavg()[0]
    print(
        f"  grid zoom {GRID_ZOOM} at ({lon:.4f}, {lat:.4f}); "
        f"load average {load_before:.1f} -> {load_after:.1f}"
    )
    for name, runs in (("link", loads), ("city+zoom", zooms)):
        for i, x in enumerate(runs, 1):
            print(
                f"    {name} {i}: opening view {x.opened:.2f} s, grids and cases {x.drawn:.2f} s, "
                f"{x.requests} requests ({x.tiles} tiles), largest {x.biggest[0] / 1000:.0f} KB "
                f"{x.biggest[1]}, slowest {x.slowest[0]:.0f} ms {x.slowest[1]}"
            )
    render = statistics.median(x.drawn for x in loads)
    via_city = statistics.median(x.drawn for x in zooms)
    size, where = max(x.biggest for x in loads + zooms)
    live = statistics.median(delays)
    print(f"  live delays (s): {' '.join(f'{d:.2f}' for d in delays)}")
    print(
        f"  first render {render:.2f} s (goal <= {GOAL_RENDER_S}; opening the city first and "
        f"zooming in: {via_city:.2f} s), largest response "
        f"{size / 1000:.0f} KB (goal <= {GOAL_BYTES // 1000}: {where}), live {live:.2f} s "
        f"(goal <= {GOAL_LIVE_S})"
    )
    return {
        "console_render_s": render,
        "console_render_via_city_s": via_city,
        "console_max_kb": size / 1000,
        "console_live_s": live,
    }


def main() -> dict[str, float]:
    city = scaled_city()
    print(f"(e) console: /map in headless Chromium, {LOADS} cold loads, {CREATIONS} live cases")
    with scaled_database(city) as engine:
        load(engine, city)
        return measure(engine.url.render_as_string(hide_password=False))


if __name__ == "__main__":
    main()
