"""The console's GCJ-02 shift (for a GCJ-02 basemap), run in the browser against the
published reference points of tests/test_crs.py."""

from __future__ import annotations

from tests.console import console, open_console
from tests.helpers import ServerProcess
from tests.test_crs import WGS_GCJ


def test_overlay_shift_matches_reference_points(demo_server: ServerProcess, chromium: str) -> None:
    with console(chromium, demo_server.base) as (page, _rec):
        open_console(page, demo_server.base)
        got = page.evaluate(
            "async (pts) => { const m = await import('/static/console/gcj.js'); m.useGcj(true);"
            " const out = pts.map(([x, y]) => [...m.toMap(x, y), ...m.fromMap(...m.toMap(x, y))]);"
            " m.useGcj(false); return out; }",
            [[p[0], p[1]] for p in WGS_GCJ],
        )
    for (lon, lat, glon, glat), (mx, my, bx, by) in zip(WGS_GCJ, got, strict=True):
        assert abs(mx - glon) < 1e-7 and abs(my - glat) < 1e-7
        assert abs(bx - lon) < 1e-6 and abs(by - lat) < 1e-6  # back to WGS-84 within 0.1 m
