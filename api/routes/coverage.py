"""Service coverage (15-minute life circle) per grid or unit and station kind, as JSON or CSV;
the map's layer 'coverage' shows the same figures. Thin: calls gis/stats/coverage.py."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse, Response

from api.auth import ActorDep
from api.deps import EngineDep, in_tx
from gis.stats import coverage as cov
from layers.tablefile import to_csv

router = APIRouter(prefix="/api/v1", tags=["analyses"])


@router.get(
    "/coverage",
    summary="Per grid or unit and station kind: metres to the nearest, shares within a radius",
)
async def coverage(
    actor: ActorDep,  # stations and boundaries are public: every role reads the same figures
    engine: EngineDep,
    kind: Annotated[str | None, Query(description="a station kind; all when absent")] = None,
    radius: Annotated[int | None, Query(description="300, 500 or 1000 (metres)")] = None,
    level: Annotated[str, Query(description="grid or unit")] = "grid",
    uncovered: Annotated[
        bool, Query(description="only areas with no station of the kind within the radius")
    ] = False,
    format: Annotated[Literal["json", "csv"], Query(description="json or csv")] = "json",
) -> Response:
    cov.check(kind, radius, level)  # a 422 before any work
    rows = await in_tx(engine, lambda c: cov.table(c, kind, radius, level, uncovered))
    if format == "csv":
        return Response(to_csv(rows, cov.columns(radius)), media_type="text/csv; charset=utf-8")
    return JSONResponse(
        {"level": level, "kind": kind, "radius": radius, **cov.describe(radius), "areas": rows}
    )
