"""The FastAPI application: wires routers and error handling, nothing else."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from api import error_docs, errors, logs
from api.events import CASES
from api.guard import ControlCharacters
from api.hotpaths import HotPaths
from api.limits import Limits
from api.routes import (
    cases,
    console,
    coverage,
    docs,
    geocode,
    health,
    hotspots,
    locate,
    map,
    ogc,
    open311,
    problems,
    session,
    stats,
    tiles,
)
from gis.store.settings import get_settings

PLAN_CHECK_S = 1.0  # how often a worker checks whether the grid plan changed


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Keep the plan index of the current grids (and the gazetteer's) fresh in the background."""
    from fastapi.concurrency import run_in_threadpool

    from gis.geocode.cache import refresh_held
    from gis.owners.cache import plan_index
    from gis.store.db import get_engine

    async def refresh() -> None:
        try:
            await run_in_threadpool(plan_index, get_engine(), 0.0)
            await run_in_threadpool(refresh_held, get_engine())  # the gazetteer, once built
        except Exception:  # noqa: BLE001 - no database yet: /healthz says so
            pass

    async def keep_fresh() -> None:
        while True:
            await asyncio.sleep(PLAN_CHECK_S)
            await refresh()

    await refresh()  # build it before the first request, so no request waits for it

    task = asyncio.create_task(keep_fresh())
    yield
    task.cancel()
    await CASES.close()


def create_app(hot_paths: bool = True) -> FastAPI:
    """A new OneMap application; hot_paths=False serves every route through FastAPI."""
    app = FastAPI(
        lifespan=lifespan,
        docs_url=None,  # served by api/routes/docs.py from local assets
        redoc_url=None,
        title="OneMap (一张图)",
        summary="The grid-governance map of a city: grids, units, cases, hotspots, parcels, stations.",
        version="0.1.0",
    )
    errors.install(app)
    error_docs.document(app)
    logs.hide_keys()
    if get_settings().limits:
        app.add_middleware(Limits)  # inside the hot paths: an anonymous single locate skips it
    if hot_paths:
        app.add_middleware(HotPaths)
    app.add_middleware(ControlCharacters)  # outermost: before the hot paths read anything
    app.include_router(docs.router)
    app.include_router(problems.router)
    app.include_router(health.router)
    app.include_router(map.router)
    app.include_router(locate.router)
    app.include_router(geocode.router)
    app.include_router(session.router)
    app.include_router(console.router)  # before cases: /cases/lifecycle is no case id
    app.include_router(cases.router)
    app.include_router(hotspots.router)
    app.include_router(coverage.router)
    app.include_router(ogc.router)
    app.include_router(open311.router)
    app.include_router(tiles.router)
    app.include_router(stats.router)
    map.mount_assets(app)
    return app


app = create_app()
