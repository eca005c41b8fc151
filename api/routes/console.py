"""What the dispatcher's console reads besides cases: its config (basemap, tile layers), the
lifecycle's stages and actions, a case's surroundings, and search. Thin: calls gis/."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse

from api.auth import ActorDep
from api.deps import EngineDep, in_tx
from gis.cases import lifecycle, nearby
from gis.cases.filters import MAX_QUERY
from gis.owners import search as places
from gis.registry.layers import LAYERS
from gis.store.settings import get_settings

router = APIRouter(prefix="/api/v1", tags=["console"])
PRIVATE = {"Cache-Control": "private, no-store"}


@router.get("/config", summary="The console's settings: basemap, tile layers, language")
async def config() -> Any:
    s = get_settings()
    return {
        "basemap": {
            "url": s.basemap_url or None,
            "crs": s.basemap_crs,
            "attribution": s.basemap_attribution or None,
        },
        "tile_layers": list(LAYERS),
        "lang": "zh",
    }


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
