"""GET /healthz: database state, PostGIS version and rows per layer."""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response

from api.deps import EngineDep
from gis.errors import DatabaseUnavailable
from gis.store.health import health

router = APIRouter(tags=["health"])
LIVE_BODY = orjson.dumps({"status": "alive"})  # built once: /livez is the bench's baseline


@router.get("/healthz", summary="Database state, PostGIS version and row counts per layer")
async def healthz(engine: EngineDep) -> Any:
    try:
        return await run_in_threadpool(health, engine)
    except DatabaseUnavailable as exc:
        return JSONResponse({"status": "unavailable", "database": str(exc)}, status_code=503)


@router.get("/livez", summary="The process answers (no database): for probes and benchmarks")
async def livez() -> Response:
    return Response(LIVE_BODY, media_type="application/json")
