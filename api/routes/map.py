"""The dispatcher's console at /map (its HTML, its generated map script, CSP), its boundary
GeoJSON and its locally served assets."""

from __future__ import annotations

import hashlib
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import APIRouter, FastAPI, Path, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.types import Scope

from api.deps import EngineDep
from gis.owners.extent import city_extent
from gis.owners.index import VERSION_SQL
from gis.registry.layers import BOUNDARY_LAYERS
from gis.store.settings import get_settings
from layers import assets
from layers.boundaries import boundaries_geojson
from layers.page import MAP_SCRIPT_URL, Page, build_page, csp

router = APIRouter()
# The public boundaries per (database, level), with the plan version they were built at: rebuilt
# on the first request after a plan change (VERSION_SQL moves in the change's transaction).
_BOUNDARIES: dict[tuple[str, str], tuple[str, bytes]] = {}
Level = Annotated[str, Path(description=f"one of {', '.join(BOUNDARY_LAYERS)}")]
GUARDS = {"X-Frame-Options": "DENY", "X-Content-Type-Options": "nosniff"}


@router.get("/", include_in_schema=False)
async def root() -> RedirectResponse:
    return RedirectResponse("/map")


async def _page(engine: EngineDep) -> Page:
    def build() -> Page:
        with engine.connect() as conn:
            extent = city_extent(conn, 0)
        return build_page(None if "China" in extent.what else extent)

    return await run_in_threadpool(build)


def _origin(template: str | None) -> str | None:
    """The scheme and host of a basemap URL template (what the CSP lets images come from)."""
    if not template:
        return None
    parts = urlsplit(template.replace("{s}", "a"))
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else None


@router.get("/map", response_class=HTMLResponse, tags=["map"], summary="The dispatcher's console")
async def one_map(engine: EngineDep) -> HTMLResponse:
    basemap = get_settings().basemap_url
    headers = {"Content-Security-Policy": csp(_origin(basemap)), **GUARDS}
    missing = assets.missing_packages()
    if missing:
        return HTMLResponse(
            f"<h1>OneMap</h1><p>The map's packages are not installed: {', '.join(missing)}. "
            "Run <code>make demo</code> (or <code>npm ci</code>) in the project folder.</p>",
            status_code=503,
            headers=headers,
        )
    return HTMLResponse((await _page(engine)).html, headers=headers)


@router.get(MAP_SCRIPT_URL, tags=["map"], summary="The map script folium generated for /map")
async def map_script(engine: EngineDep) -> Response:
    return Response(
        (await _page(engine)).script,
        media_type="text/javascript; charset=utf-8",
        headers={"Cache-Control": "no-cache", **GUARDS},
    )


@router.get(
    "/api/v1/boundaries/{level}.geojson",
    tags=["map"],
    summary="A boundary level as GeoJSON (public fields: code, name, parent_code)",
    response_class=Response,
    responses={200: {"content": {"application/geo+json": {}}}},
)
async def boundaries(level: Level, engine: EngineDep, request: Request) -> Response:
    def body() -> tuple[str, bytes]:
        with engine.connect() as conn:
            version = str(conn.execute(VERSION_SQL).scalar_one())  # one indexed read
            key = (str(engine.url), level)
            cached = _BOUNDARIES.get(key)
            if cached is None or cached[0] != version:
                cached = _BOUNDARIES[key] = (version, boundaries_geojson(conn, level))
            return cached

    version, geojson = await run_in_threadpool(body)
    etag = '"' + hashlib.sha256(f"{level}/{version}".encode()).hexdigest()[:20] + '"'
    headers = {"ETag": etag, "Cache-Control": "public, no-cache"}  # revalidated: the plan moves
    if etag in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers=headers)
    return Response(geojson, media_type="application/geo+json", headers=headers)


class _Public(StaticFiles):
    """Public npm files any page may load, fonts too: a notebook's map is of another origin."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        response.headers["Access-Control-Allow-Origin"] = "*"
        return response


def mount_assets(app: FastAPI) -> None:
    """Serve each installed npm package under /vendor/<name> and the console's own modules."""
    for name, folder in assets.package_dirs().items():
        app.mount(f"{assets.URL_PREFIX}/{name}", _Public(directory=folder), name=f"vendor-{name}")
    app.mount(assets.CONSOLE_URL, StaticFiles(directory=assets.CONSOLE_DIR), name="console")
