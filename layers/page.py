"""The dispatcher's console at /map: folium builds the map and its assets; the console's
logic is static ES modules (layers/static/console/); no inline script anywhere."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import folium

from gis.owners.extent import Extent
from layers import assets

MAP_NAME = "console"  # folium names the map's variable and div map_console
MAP_SCRIPT_URL = "/map/map.js"
_INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.S)

# The Content-Security-Policy of the console (the basemap's host is added when configured).
CSP = (
    "default-src 'self'; script-src 'self'; connect-src 'self'; img-src 'self' data:{img}; "
    "style-src 'self' 'unsafe-inline'; font-src 'self'; frame-ancestors 'none'; "
    "base-uri 'self'; form-action 'self'"
)


@dataclass(frozen=True)
class Page:
    """The console's HTML and the script folium generated for it (served as MAP_SCRIPT_URL)."""

    html: str
    script: str


def csp(basemap_host: str | None = None) -> str:
    """The page's Content-Security-Policy; a configured basemap's host may serve images."""
    return CSP.format(img=f" {basemap_host}" if basemap_host else "")


# What the console asks first, before its map asks for tiles (main.js: the session, then the
# lifecycle's labels and the config together): preloaded, they arrive while the scripts load.
FIRST_ASKED = ("/api/v1/session", "/api/v1/cases/lifecycle", "/api/v1/config")


def preloads() -> list[str]:
    """A modulepreload link per console module: the browser fetches them all at once instead of
    discovering them import by import (three round trips deep); and a preload of each answer
    the console waits for before its map starts (same origin, with the session cookie)."""
    modules = [
        f'<link rel="modulepreload" href="{assets.CONSOLE_URL}/{p.name}">'
        for p in sorted(assets.CONSOLE_DIR.glob("*.js"))
    ]
    answers = [
        f'<link rel="preload" href="{path}" as="fetch" crossorigin="anonymous">'
        for path in FIRST_ASKED
    ]
    return [*modules, *answers]


@lru_cache(maxsize=8)
def build_page(extent: Extent | None) -> Page:
    """The console: folium's map, the console's skeleton and module; inline script moved out.
    Built once per extent (folium renders in tens of milliseconds; the page and its script are
    asked for on every load)."""
    m = folium.Map(
        location=[25.4, 119.0],
        zoom_start=11,
        tiles=None,
        control_scale=True,
        prefer_canvas=True,
    )
    m._id = MAP_NAME
    m.default_js = assets.JS
    m.default_css = assets.CSS
    if extent is not None:
        m.fit_bounds([[extent.miny, extent.minx], [extent.maxy, extent.maxx]])
    root = m.get_root()
    root.header.add_child(  # type: ignore[attr-defined]
        folium.Element('<title>OneMap 一张图 · 指挥台</title><link rel="icon" href="data:,">')
    )
    root.html.add_child(  # type: ignore[attr-defined]
        folium.Element((assets.CONSOLE_DIR / "console.html").read_text(encoding="utf-8"))
    )
    root.header.add_child(  # type: ignore[attr-defined]
        folium.Element("\n".join(preloads()))
    )
    html = root.render()
    script = "\n".join(s.strip() for s in _INLINE_SCRIPT.findall(html))
    html = _INLINE_SCRIPT.sub("", html).replace(
        "</html>",
        f'<script src="{MAP_SCRIPT_URL}"></script>\n'
        f'<script type="module" src="{assets.CONSOLE_MAIN}"></script>\n</html>',
    )
    return Page(html, script)
