"""Hotspot statistics per grid on request: Gi* and local Moran's I of a subject's rate, as JSON
or CSV (the map's layers case_hotspots and waterlogging_hotspots are the published ones).
Thin: parses, then calls gis/stats/hotspots.py."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse, Response
from sqlalchemy.engine import Connection

from api.auth import ActorDep
from api.deps import EngineDep, in_tx
from gis.stats import hotspots as hs
from layers.tablefile import to_csv
from layers.versions import memo

router = APIRouter(prefix="/api/v1", tags=["analyses"])


@router.get(
    "/hotspots",
    summary="Per grid: Gi* and local Moran's I of cases (or waterlogging spots) per km²",
)
async def hotspots(
    actor: ActorDep,
    engine: EngineDep,
    subject: Annotated[str, Query(description="cases or waterlogging")] = "cases",
    category: Annotated[str | None, Query(description="a case category; all when absent")] = None,
    since: Annotated[
        datetime | None, Query(description="cases reported from (with a zone)")
    ] = None,
    until: Annotated[datetime | None, Query(description="... and before (with a zone)")] = None,
    permutations: Annotated[int, Query(description="99 to 9999")] = hs.PERMUTATIONS,
    seed: Annotated[int, Query(description="the permutations' seed")] = hs.SEED,
    format: Annotated[Literal["json", "csv"], Query(description="json or csv")] = "json",
) -> Response:
    a = hs.Analysis(subject, category, since, until, permutations, seed)
    hs.check_period(a, actor)  # a 422 before any work

    def run(conn: Connection) -> list[dict[str, object]]:
        frame = memo(conn, f"hotspots:{a!r}", a.tables, lambda: hs.analyse(conn, a))
        return hs.records(hs.for_actor(frame, a, actor))

    rows = await in_tx(engine, run)
    if format == "csv":
        return Response(to_csv(rows, hs.COLUMNS), media_type="text/csv; charset=utf-8")
    return JSONResponse({"analysis": hs.describe(a), "grids": rows})
