"""GET /api/v1/stats/kpis and /ranking: performance figures (绩效评价) per area for a period,
as JSON keyed by area code (for a choropleth), CSV or Excel."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse, Response

from api.auth import ActorDep
from api.deps import EngineDep, in_tx
from gis.stats import kpis as kpi
from gis.stats.kpi_config import load_config
from gis.stats.tables import csv_bytes, frame_of, xlsx_bytes

router = APIRouter(prefix="/api/v1/stats", tags=["statistics"])

By = Annotated[str, Query(description="grid, unit, village, town or district")]
Since = Annotated[datetime | None, Query(description="default: 14 days before until")]
Until = Annotated[datetime | None, Query(description="default: now (exclusive)")]
Fmt = Annotated[Literal["json", "csv", "xlsx"], Query(description="json, csv or xlsx")]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _answer(
    rows: list[dict[str, Any]], f: str, name: str, head: dict[str, Any], body: Any
) -> Response:
    if f == "json":
        config = load_config()
        return JSONResponse(
            {
                **head,
                "weights": dict(config.weights),
                "grades": dict(config.grades),
                "areas": body,
            }
        )
    data, media = (
        (csv_bytes(frame_of(rows)), "text/csv; charset=utf-8")
        if f == "csv"
        else (xlsx_bytes(frame_of(rows)), XLSX)
    )
    return Response(
        data,
        media_type=media,
        headers={"Content-Disposition": f'attachment; filename="{name}.{f}"'},
    )


def _head(by: str, since: datetime, until: datetime) -> dict[str, Any]:
    return {"by": by, "since": since.isoformat(), "until": until.isoformat()}


@router.get("/kpis", summary="Performance figures (绩效评价) per area for a period")
async def kpis(
    actor: ActorDep,
    engine: EngineDep,
    by: By = "grid",
    since: Since = None,
    until: Until = None,
    f: Fmt = "json",
) -> Response:
    start, end = kpi.default_period(since, until)
    rows = await in_tx(engine, lambda c: kpi.kpis(c, by, start, end, actor))
    body = {r["code"]: r for r in rows}
    return _answer(rows, f, f"kpis-{by}", _head(by, start, end), body)


@router.get("/ranking", summary="Areas ranked by their 综合指标值; bottom=N: the bulletin's last N")
async def ranking(
    actor: ActorDep,
    engine: EngineDep,
    by: By = "grid",
    since: Since = None,
    until: Until = None,
    bottom: Annotated[int | None, Query(description="only the last N, worst first")] = None,
    f: Fmt = "json",
) -> Response:
    start, end = kpi.default_period(since, until)
    rows = await in_tx(engine, lambda c: kpi.ranking(c, by, start, end, actor, bottom))
    head = {**_head(by, start, end), "bottom": bottom}
    return _answer(rows, f, f"ranking-{by}", head, rows)
