"""GET /healthz: database state, PostGIS version and rows per layer."""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response
from sqlalchemy.engine import Engine

from api.deps import EngineDep
from api.errors import RETRY_AFTER_S
from gis.errors import DatabaseUnavailable
from gis.owners.cache import cached_plan_index
from gis.store.health import health
from layers import tiles

router = APIRouter(tags=["health"])
LIVE_BODY = orjson.dumps({"status": "alive"})  # built once: /livez is the bench's baseline


@router.get("/healthz", summary="Database state, PostGIS version and row counts per layer")
async def healthz(engine: EngineDep) -> Any:
    try:
        return await run_in_threadpool(health, engine)
    except DatabaseUnavailable as exc:
        doc = {"status": "unavailable", "database": str(exc), "degraded": degraded(engine)}
        return JSONResponse(doc, status_code=503, headers={"Retry-After": RETRY_AFTER_S})


def degraded(engine: Engine) -> dict[str, Any]:
    """What this process still answers while the database does not, and what it cannot."""
    held = cached_plan_index(engine) is not None
    return {
        "locate": "answering from the grid plan held in memory"
        if held
        else "unavailable: no grid plan held in memory yet",
        "tiles": f"answering the {len(tiles.CACHE):,} tiles in the cache; others unavailable",
        "unavailable": ["cases", "ogc", "open311", "statistics", "signed-in requests"],
    }


@router.get("/livez", summary="The process answers (no database): for probes and benchmarks")
async def livez() -> Response:
    return Response(LIVE_BODY, media_type="application/json")
