"""Analysts' folium maps (GeoDataFrame.explore, MarkerCluster, branca legends) that load their
scripts and styles from a OneMap server's /vendor instead of CDNs (intranets are offline)."""

from __future__ import annotations

import os
import re
from typing import Any
from urllib.parse import urlsplit

import folium
from branca.element import Figure
from folium.elements import JSCSSMixin
from folium.plugins import MarkerCluster

from gis.errors import BadParameter
from layers.assets import URL_PREFIX

DEFAULT_URL = "http://127.0.0.1:8000"

# folium's own asset lists: each name in a class's default_js / default_css -> its file under
# /vendor (layers/assets.PACKAGES), or None where maps work without it and it is left out.
FOLIUM: dict[type[JSCSSMixin], dict[str, str | None]] = {
    folium.Map: {
        "leaflet": "leaflet/leaflet.js",
        "jquery": "jquery/jquery.min.js",
        "bootstrap": "bootstrap/js/bootstrap.bundle.min.js",
        "awesome_markers": "awesome-markers/leaflet.awesome-markers.js",
        "leaflet_css": "leaflet/leaflet.css",
        "bootstrap_css": "bootstrap/css/bootstrap.min.css",
        "glyphicons_css": "glyphicons/css/bootstrap.min.css",
        "awesome_markers_font_css": "fontawesome/css/all.min.css",
        "awesome_markers_css": "awesome-markers/leaflet.awesome-markers.css",
        # folium's own rules that turn an awesome-marker icon by `angle`; not on npm: left out
        # (icons with an angle are drawn upright).
        "awesome_rotate_css": None,
    },
    MarkerCluster: {
        "markerclusterjs": "markercluster/leaflet.markercluster.js",
        "markerclustercss": "markercluster/MarkerCluster.css",
        "markerclusterdefaultcss": "markercluster/MarkerCluster.Default.css",
    },
}

# Scripts the libraries write into the page themselves, with no list to configure (branca's
# colour-scale legend: d3; geopandas' draggable categorical legend: jQuery UI): each rendered
# page's links to other hosts are pointed at the server's copy by file name, and a link with no
# copy here stops the rendering rather than reach the internet.
BY_FILE = {
    "d3.min.js": "d3/d3.min.js",
    "jquery-ui.js": "jquery-ui/jquery-ui.min.js",
}
_LINK = re.compile(r'(<script[^>]*\ssrc="|<link[^>]*\shref=")(https?://[^"]+)"')

_CDN = {cls: (list(cls.default_js), list(cls.default_css)) for cls in FOLIUM}
_figure_render = Figure.render
_vendor: list[str] = []  # the server's /vendor URL, once local_map_assets has been called


def local_map_assets(base_url: str | None = None) -> None:
    """Make every folium map this Python process renders from now on (GeoDataFrame.explore,
    folium.Map, MarkerCluster, colour-scale and categorical legends) take its scripts and
    styles from `base_url`/vendor, the OneMap server's copies of the npm packages, instead of
    CDNs.

    base_url: the OneMap server as the browser that shows the map reaches it (default
    $ONEMAP_URL, else http://127.0.0.1:8000). Pass `tiles=None` to explore() (or an intranet
    tile URL): its default OpenStreetMap tiles come from the internet.

        onemap.local_map_assets("http://onemap.intranet:8000")
        grids.explore(column="score", tiles=None)
    """
    base = (base_url or os.environ.get("ONEMAP_URL") or DEFAULT_URL).rstrip("/")
    parts = urlsplit(base)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise BadParameter(
            "base_url",
            f"{base!r} is not the http(s) address of a OneMap server; "
            "give one such as http://onemap.intranet:8000",
        )
    vendor = f"{base}{URL_PREFIX}"
    for cls, files in FOLIUM.items():
        js, css = _CDN[cls]
        unknown = [name for name, _ in js + css if name not in files]
        if unknown:  # a newer folium: say which asset to serve rather than let it reach a CDN
            raise RuntimeError(f"{cls.__name__} loads {unknown}: add them to onemap/maps.py")
        cls.default_js = _local(js, files, vendor)
        cls.default_css = _local(css, files, vendor)
    _vendor[:] = [vendor]
    Figure.render = _render  # type: ignore[method-assign]


def _local(
    assets: list[tuple[str, str]], files: dict[str, str | None], vendor: str
) -> list[tuple[str, str]]:
    return [(name, f"{vendor}/{files[name]}") for name, _ in assets if files[name] is not None]


def _render(self: Figure, **kwargs: Any) -> str:
    html: str = _figure_render(self, **kwargs)
    return _LINK.sub(_to_vendor, html)


def _to_vendor(m: re.Match[str]) -> str:
    """A script or style link to another host, pointed at the server's copy of its file."""
    url = m[2]
    vendor = _vendor[0]
    if url.startswith(vendor + "/"):
        return m[0]
    path = BY_FILE.get(urlsplit(url).path.rsplit("/", 1)[-1])
    if path is None:
        raise RuntimeError(
            f"a map loads {url}, which an offline intranet cannot reach: serve the npm package "
            "under /vendor (layers/assets.PACKAGES) and name its file in onemap/maps.py BY_FILE"
        )
    return f'{m[1]}{vendor}/{path}"'
