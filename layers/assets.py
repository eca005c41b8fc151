"""Front-end assets of the map page: npm packages installed at set-up, served by OneMap itself.

Nothing is fetched from a CDN at run time (government intranets are offline); folium's CDN
defaults are replaced by these local paths.
"""

from __future__ import annotations

from pathlib import Path

from gis.store.settings import PROJECT_ROOT

NODE_MODULES = PROJECT_ROOT / "node_modules"
URL_PREFIX = "/vendor"

# URL folder under /vendor -> folder inside node_modules
PACKAGES = {
    "leaflet": "leaflet/dist",
    "jquery": "jquery/dist",
    "bootstrap": "bootstrap/dist",
    "fontawesome": "@fortawesome/fontawesome-free",
    "awesome-markers": "leaflet.awesome-markers/dist",
    "swagger-ui": "swagger-ui-dist",  # the API docs at /docs
}

JS = [
    ("leaflet", f"{URL_PREFIX}/leaflet/leaflet.js"),
    ("jquery", f"{URL_PREFIX}/jquery/jquery.min.js"),
    ("bootstrap", f"{URL_PREFIX}/bootstrap/js/bootstrap.bundle.min.js"),
    ("awesome_markers", f"{URL_PREFIX}/awesome-markers/leaflet.awesome-markers.js"),
]
CSS = [
    ("leaflet_css", f"{URL_PREFIX}/leaflet/leaflet.css"),
    ("bootstrap_css", f"{URL_PREFIX}/bootstrap/css/bootstrap.min.css"),
    ("awesome_markers_font_css", f"{URL_PREFIX}/fontawesome/css/all.min.css"),
    ("awesome_markers_css", f"{URL_PREFIX}/awesome-markers/leaflet.awesome-markers.css"),
]


def package_dirs(root: Path = NODE_MODULES) -> dict[str, Path]:
    """Each URL folder and the installed folder it serves; missing ones are left out."""
    return {name: root / sub for name, sub in PACKAGES.items() if (root / sub).is_dir()}


def missing_packages(root: Path = NODE_MODULES) -> list[str]:
    """npm packages the page needs that are not installed (run `make demo` or `npm ci`)."""
    return [sub.split("/dist")[0] for sub in PACKAGES.values() if not (root / sub).is_dir()]
