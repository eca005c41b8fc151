"""What the dispatcher's console reads besides cases: its config (basemap, tile layers), the
lifecycle's stages and actions, a case's surroundings, and search. Thin: calls gis/."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response

from api.auth import ActorDep
from api.deps import EngineDep, in_tx
from api.routes.tiles import compressed
from gis.cases import lifecycle, nearby
from gis.cases.filters import MAX_QUERY
from gis.owners import search as places
from gis.registry.layers import LAYERS
from gis.store.settings import get_settings
from layers import tileset
from layers.features import parse_bbox
from layers.versions import versions

router = APIRouter(prefix="/api/v1", tags=["console"])
PRIVATE = {"Cache-Control": "private, no-store"}


@router.get("/config", summary="The console's settings: basemap, tile layers, language")
async def config(engine: EngineDep) -> Any:
    s = get_settings()
    plan = await in_tx(engine, lambda c: tileset.plan_version(versions(c)))
    return {
        "basemap": {
            "url": s.basemap_url or None,
            "crs": s.basemap_crs,
            "attribution": s.basemap_attribution or None,
        },
        "tile_layers": list(LAYERS),
        "combined_layers": list(tileset.COMBINABLE),
        "plan_version": plan,
        "open_stages": list(
            lifecycle.OPEN
        ),  # what the queue's default filter lists  # /tiles/combined/...?v= : tiles the browser may keep
        "lang": "zh",
    }


@router.get(
    "/cases/counts.geojson",
    summary="A map view's case counts: per grid (per village below zoom 12) at its label point",
    response_class=Response,
    responses={200: {"content": {"application/geo+json": {}}}},
)
async def view_counts(
    request: Request,
    engine: EngineDep,
    actor: ActorDep,
    bbox: str = Query(..., description="the view: west,south,east,north (EPSG:4326)"),
    zoom: int = Query(..., ge=0, le=22, description="the map's zoom (picks grids or villages)"),
) -> Response:
    box = parse_bbox(bbox)

    def body() -> bytes:
        with engine.connect() as conn:
            return json.dumps(
                tileset.view_counts(conn, box, zoom, actor), separators=(",", ":")
            ).encode()

    raw = await run_in_threadpool(body)
    payload, coding = compressed(request, None, raw)
    return Response(payload, media_type="application/geo+json", headers={**PRIVATE, **coding})


@router.get("/cases/lifecycle", summary="The case stages in order and the actions between them")
async def stages() -> Any:
    return lifecycle.describe()


@router.get(
    "/cases/{case_id}/nearby",
    summary="Around a case: possible duplicates, other cases within 300 m, the nearest stations",
)
async def around(case_id: int, actor: ActorDep, engine: EngineDep) -> JSONResponse:
    found = await in_tx(engine, lambda c: nearby.around(c, case_id, actor))
    return JSONResponse(found, headers=PRIVATE)


@router.get("/search", summary="A case id, an area code or an area's name: where it is")
async def search(
    actor: ActorDep,
    engine: EngineDep,
    q: str = Query(..., description=f"a case id, a code or a name; at most {MAX_QUERY} characters"),
    limit: int = Query(10, description=f"1 to {places.MAX_RESULTS}"),
) -> JSONResponse:
    found = await in_tx(engine, lambda c: places.search(c, q, limit, actor))
    return JSONResponse({"results": found}, headers=PRIVATE)
