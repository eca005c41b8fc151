"""Front-end assets of the map page: npm packages installed at set-up, served by OneMap itself.

Nothing is fetched from a CDN at run time (government intranets are offline); folium's CDN
defaults are replaced by these local paths, and the console's own modules and styles live in
layers/static/console/ (served at /static/console).
"""

from __future__ import annotations

from pathlib import Path

from gis.store.settings import PROJECT_ROOT

NODE_MODULES = PROJECT_ROOT / "node_modules"
URL_PREFIX = "/vendor"
CONSOLE_DIR = Path(__file__).parent / "static" / "console"
CONSOLE_URL = "/static/console"

# URL folder under /vendor -> folder inside node_modules
PACKAGES = {
    "leaflet": "leaflet/dist",
    "markercluster": "leaflet.markercluster/dist",
    "noto-sans-sc": "@fontsource/noto-sans-sc",  # Chinese labels without system fonts
    "swagger-ui": "swagger-ui-dist",  # the API docs at /docs
    # What folium, branca and geopandas' explore() put in an analyst's map (onemap/maps.py)
    "jquery": "jquery/dist",
    "jquery-ui": "jquery-ui/dist",  # geopandas' draggable categorical legend
    "bootstrap": "bootstrap/dist",
    "fontawesome": "@fortawesome/fontawesome-free",
    "glyphicons": "glyphicons-only-bootstrap",
    "awesome-markers": "leaflet.awesome-markers/dist",
    "d3": "d3",  # v3, for branca's colour-scale legends
}

# Only what the console uses: Leaflet, clustered case markers, a Chinese font, our styles.
JS = [
    ("leaflet", f"{URL_PREFIX}/leaflet/leaflet.js"),
    ("markercluster", f"{URL_PREFIX}/markercluster/leaflet.markercluster.js"),
]
CSS = [
    ("leaflet_css", f"{URL_PREFIX}/leaflet/leaflet.css"),
    ("markercluster_css", f"{URL_PREFIX}/markercluster/MarkerCluster.css"),
    ("markercluster_default_css", f"{URL_PREFIX}/markercluster/MarkerCluster.Default.css"),
    ("noto_sans_sc_css", f"{URL_PREFIX}/noto-sans-sc/400.css"),
    ("console_css", f"{CONSOLE_URL}/console.css"),
]
CONSOLE_MAIN = f"{CONSOLE_URL}/main.js"


def package_dirs(root: Path = NODE_MODULES) -> dict[str, Path]:
    """Each URL folder and the installed folder it serves; missing ones are left out."""
    return {name: root / sub for name, sub in PACKAGES.items() if (root / sub).is_dir()}


def missing_packages(root: Path = NODE_MODULES) -> list[str]:
    """npm packages the page and the analysts' maps need that are not installed (run `make demo` or `npm ci`)."""
    return [sub.split("/dist")[0] for sub in PACKAGES.values() if not (root / sub).is_dir()]
