"""The FastAPI application: wires routers and error handling, nothing else."""

from __future__ import annotations

from fastapi import FastAPI

from api import errors
from api.routes import health, locate, map


def create_app() -> FastAPI:
    """A new OneMap application."""
    app = FastAPI(
        title="OneMap (一张图)",
        summary="The grid-governance map of a city: grids, units, cases, hotspots, parcels, stations.",
        version="0.1.0",
    )
    errors.install(app)
    app.include_router(health.router)
    app.include_router(map.router)
    app.include_router(locate.router)
    map.mount_assets(app)
    return app


app = create_app()
