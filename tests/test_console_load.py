"""The console loads from our server only, under its CSP, with no failed request or error."""

from __future__ import annotations

import httpx

from tests.console import console, open_console, shot, wait_some
from tests.helpers import ServerProcess


def test_console_loads_cleanly_under_its_csp(
    demo_server: ServerProcess, chromium: str, tokens: dict[str, str]
) -> None:
    with console(chromium, demo_server.base) as (page, rec):
        open_console(page, demo_server.base, token=tokens["dispatcher"])
        wait_some(page, "districts")
        page.wait_for_timeout(1500)
        shot(page, "console-dispatcher")
        # The page's structure: the hooks named in the README.
        for testid in ("case-queue", "search", "queue-filter-stage"):
            assert page.get_by_test_id(testid).count() == 1, testid
        inline = page.eval_on_selector_all("script:not([src])", "s => s.length")
    assert inline == 0
    assert rec.failed == []
    assert rec.real_errors() == []
    assert rec.foreign() == []
    assert any(u.endswith("/static/console/main.js") for u in rec.requests)
    assert any("/tiles/combined/" in u and "districts" in u for u in rec.requests)
    assert not any("/api/v1/boundaries/" in u for u in rec.requests)  # no whole GeoJSON files


def test_map_headers_forbid_inline_script_and_framing(demo_server: ServerProcess) -> None:
    r = httpx.get(demo_server.base + "/map", timeout=30)
    csp = r.headers["content-security-policy"]
    assert "script-src 'self';" in csp and "frame-ancestors 'none'" in csp
    assert "default-src 'self'" in csp and "connect-src 'self'" in csp
    assert r.headers["x-frame-options"] == "DENY"
    assert "<script>" not in r.text  # folium's inline script is served as /map/map.js
    js = httpx.get(demo_server.base + "/map/map.js", timeout=30)
    assert js.status_code == 200 and "javascript" in js.headers["content-type"]
    assert "L.map(" in js.text and "map_console" in js.text
