"""Cases: intake, listing, one case, actions with If-Match, history, public counts and the
live stream. Thin: parses, authorises (api/auth.py) and calls gis/cases/."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal, TypeVar

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field
from sqlalchemy import exc as sa_exc
from sse_starlette import EventSourceResponse, ServerSentEvent

from api.auth import ActorDep, TokenDep, actor_for, session_token
from api.deps import EngineDep, in_tx
from api.events import CASES
from gis.access.policy import in_scope, scope_sql
from gis.access.roles import Actor
from gis.cases import actions, intake, placing, read
from gis.cases.filters import DEFAULT_SORT, MAX_QUERY, SORTS, CaseFilter
from gis.cases.intake import NewCase
from gis.cases.lifecycle import ACTIONS
from gis.cases.sql import CASES as CASE_LAYER
from gis.errors import InvalidInput, NotAuthenticated, OneMapError
from gis.registry.vocab import CASE_STATUSES
from gis.stats import cases as case_stats
from layers import casefile
from layers.features import MAX_OFFSET, parse_bbox

router = APIRouter(prefix="/api/v1/cases", tags=["cases"])
T = TypeVar("T")
KEEPALIVE_S = 15.0  # a comment line this often keeps proxies from closing the stream
RETRY_MS = 3000  # how soon a browser reconnects
RECHECK_S = 5.0  # how often an open stream checks that its token still holds
EXPORT_MAX = 100_000  # rows in one csv/geojson export


def _case_response(case: dict[str, Any], status: int = 200) -> JSONResponse:
    return JSONResponse(
        case,
        status_code=status,
        headers={"ETag": f'"{case["version"]}"', "Cache-Control": "private, no-store"},
    )


class Location(BaseModel):
    lon: float | None = Field(None, description="longitude (geographic CRSs)", examples=[119.01])
    lat: float | None = Field(None, description="latitude", examples=[25.43])
    x: float | None = Field(None, description="easting in metres (Gauss-Krüger CRSs)")
    y: float | None = Field(None, description="northing in metres")
    crs: str | None = Field(None, description="as for /api/v1/locate", examples=["GCJ02"])


class Reporter(BaseModel):
    name: str | None = Field(None, examples=["张三"])
    phone: str | None = Field(None, examples=["138-0000-0000"])


class CaseIn(BaseModel):
    category: str = Field(..., description="a minor class code (GET /api/v1/cases/categories)")
    title: str = Field(..., examples=["小区门口积水严重"])
    description: str | None = None
    location: Location | None = Field(
        None, description="the point; without it the address is placed by the gazetteer"
    )
    reporter: Reporter | None = None
    address: str | None = Field(None, examples=["湖泰镇阳昌村3组12号"])


class ActionIn(BaseModel):
    action: str = Field(..., description=f"one of {', '.join(ACTIONS)}", examples=["dispatch"])
    note: str | None = Field(None, examples=["派至网格长处理"])


class PlaceIn(Location):
    address: str | None = Field(
        None, description="instead of a point: an address the gazetteer is sure of"
    )


def _xy(loc: Location | None) -> tuple[float | None, float | None]:
    if loc is None:  # filed by address (issue 14)
        return None, None
    if loc.lon is not None and loc.lat is not None and loc.x is None and loc.y is None:
        return loc.lon, loc.lat
    if loc.x is not None and loc.y is not None and loc.lon is None and loc.lat is None:
        return loc.x, loc.y
    raise InvalidInput("location: give lon and lat (or x and y for a Gauss-Krüger crs), not both")


@router.get("/categories", summary="Case categories (major/minor classes) and their deadlines")
async def categories(engine: EngineDep) -> Any:
    return await in_tx(engine, read.categories)


@router.get("/counts", summary="Cases per grid, in all and open (public: no case details)")
async def counts(engine: EngineDep) -> Any:
    return {"grids": await in_tx(engine, case_stats.counts_by_grid)}


@router.get(
    "/stats",
    summary="Per grid (village, town, district): reported, open, overdue, closed, on time",
)
async def stats(
    actor: ActorDep,
    engine: EngineDep,
    level: Annotated[str, Query(description="grid, village, town or district")] = "grid",
    since: Annotated[
        datetime | None, Query(description="default: 14 days ago (a fortnight's ranking)")
    ] = None,
    until: datetime | None = None,
) -> Any:
    start = since or datetime.now(UTC) - timedelta(days=14)
    for name, value in (("since", start), ("until", until)):
        if value is not None and value.tzinfo is None:
            raise InvalidInput(f"{name} needs a time zone (Z or +08:00)")
    rows = await in_tx(engine, lambda c: case_stats.stats(c, level, start, until, actor))
    return {
        "level": level,
        "since": start.isoformat(),
        "until": until and until.isoformat(),
        "areas": rows,
    }


@router.post("", status_code=201, summary="Report a case; it is owned by the grid covering it")
async def create(body: CaseIn, actor: ActorDep, engine: EngineDep) -> JSONResponse:
    x, y = _xy(body.location)
    new = NewCase(
        category=body.category,
        title=body.title,
        x=x,
        y=y,
        crs=body.location.crs if body.location else None,
        description=body.description,
        reporter_name=body.reporter.name if body.reporter else None,
        reporter_phone=body.reporter.phone if body.reporter else None,
        address=body.address,
    )
    case = await in_tx(engine, lambda c: intake.create_case(c, new, actor))
    response = _case_response(case, 201)
    response.headers["Location"] = f"/api/v1/cases/{case['id']}"
    return response


def _bbox(raw: str | None) -> tuple[float, float, float, float] | None:
    """The OGC parser's checks (lon/lat order, ranges): a 422 naming the bbox parameter."""
    return None if raw is None else parse_bbox(raw)


@router.get("", summary="Cases you may see, filtered, sorted and paged (newest first)")
async def list_cases(
    actor: ActorDep,
    engine: EngineDep,
    status: str | None = Query(
        None, description="one or several of, comma-separated: " + ", ".join(CASE_STATUSES)
    ),
    category: str | None = Query(
        None, description="one or several category codes, comma-separated"
    ),
    grid: str | None = Query(None, description="grid code", max_length=15),
    village: str | None = Query(None, description="12-digit village code", max_length=12),
    town: str | None = Query(None, description="12-digit town code", max_length=12),
    district: str | None = Query(None, description="12-digit district code", max_length=12),
    open: bool | None = Query(None, description="true: the open stages; false: the others"),
    overdue: bool | None = None,
    needs_location: bool | None = Query(
        None, description="true: cases filed by an address that could not be placed"
    ),
    q: str | None = Query(
        None,
        description=f"text in the title, description or address (a number: also the id); "
        f"at most {MAX_QUERY} characters",
    ),
    bbox: str | None = Query(None, description="minlon,minlat,maxlon,maxlat"),
    reported_after: datetime | None = None,
    reported_before: datetime | None = None,
    sort: str = Query(DEFAULT_SORT, description=f"one of {', '.join(SORTS)} (-: descending)"),
    limit: int = Query(100, ge=1, le=1000),
    offset: int = Query(0, ge=0, le=MAX_OFFSET),
    fmt: Literal["json", "csv", "geojson"] = Query(
        "json",
        alias="f",
        description=f"json (a page), or csv / geojson: every matching case, at most {EXPORT_MAX:,}",
    ),
) -> Any:
    f = CaseFilter(
        status=status,
        category=category,
        grid=grid,
        village=village,
        town=town,
        district=district,
        open=open,
        overdue=overdue,
        needs_location=needs_location,
        q=q,
        bbox=_bbox(bbox),
        reported_after=reported_after,
        reported_before=reported_before,
        sort=sort,
        limit=limit if fmt == "json" else EXPORT_MAX,
        offset=offset if fmt == "json" else 0,
    )
    items, total = await in_tx(engine, lambda c: read.list_cases(c, f, actor))
    if fmt != "json":
        return _export(items, total, fmt, actor)
    return JSONResponse(
        {"cases": items, "total": total, "limit": limit, "offset": offset},
        headers={"Cache-Control": "private, no-store"},
    )


def _export(items: list[dict[str, Any]], total: int, fmt: str, actor: Actor) -> Response:
    """The filtered cases as a file, shaped by the policy like every other view."""
    if fmt == "csv":
        body, media = casefile.to_csv(items, actor.role), "text/csv; charset=utf-8"
    else:
        body, media = casefile.to_geojson(items), "application/geo+json"
    return Response(
        body,
        media_type=media,
        headers={
            "Cache-Control": "private, no-store",
            "Content-Disposition": f'attachment; filename="cases.{fmt}"',
            "X-Total-Count": str(total),
        },
    )


@router.get("/stream", summary="Server-sent events: new and changed cases (LISTEN/NOTIFY)")
async def stream(
    request: Request, actor: ActorDep, engine: EngineDep, token: TokenDep
) -> EventSourceResponse:
    scope_sql(CASE_LAYER, actor)  # the policy: 401 without a token, 403 for a worker without a grid
    conninfo = engine.url.render_as_string(hide_password=False).replace("+psycopg", "")
    credential = token if token is not None else session_token(request)

    async def still_valid() -> bool:
        try:
            return await actor_for(engine, credential) == actor
        except NotAuthenticated:
            return False
        except (OneMapError, sa_exc.SQLAlchemyError):  # the database is away: keep going
            return True

    async def events() -> AsyncIterator[ServerSentEvent]:
        # A client's disconnect cancels this generator at its await: leaving the `async with`
        # drops its queue (and the last one out stops the LISTEN).
        async with CASES.subscribe(conninfo) as queue:
            yield ServerSentEvent(comment="listening for case changes", retry=RETRY_MS)
            checked = time.monotonic()
            while True:
                try:
                    payload = await asyncio.wait_for(queue.get(), timeout=RECHECK_S)
                except TimeoutError:
                    payload = None
                if time.monotonic() - checked >= RECHECK_S:
                    if not await still_valid():  # revoked, expired or changed: the stream ends
                        yield ServerSentEvent(
                            event="end", data='{"reason": "sign in again: the token has ended"}'
                        )
                        return
                    checked = time.monotonic()
                if payload is None:
                    continue
                event = json.loads(payload)
                if _visible(event, actor):
                    yield ServerSentEvent(
                        data=payload, event="case", id=f"{event['id']}.{event['version']}"
                    )

    return EventSourceResponse(
        events(),
        ping=KEEPALIVE_S,
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


def _visible(event: dict[str, Any], actor: Actor) -> bool:
    """The access policy's row scope, applied to an event (the stream is not SQL)."""
    return in_scope(CASE_LAYER, actor, event.get("grid_code"))


@router.get("/{case_id}", summary="One case (ETag: its version)")
async def get_case(case_id: int, actor: ActorDep, engine: EngineDep) -> JSONResponse:
    return _case_response(await in_tx(engine, lambda c: read.get_case(c, case_id, actor)))


# A change to one case names the version it was made on (If-Match: the case's ETag).
IfMatch = Annotated[str | None, Header(description='the ETag of the case, e.g. "3"')]
VERSIONED: dict[int | str, dict[str, Any]] = {
    412: {"description": "If-Match is not the case's current version"},
    428: {"description": "If-Match is missing"},
}


@router.post(
    "/{case_id}/actions",
    summary="Move a case on: register, cancel, dispatch, start, respond, close, rework, evaluate",
    responses={
        409: {"description": "not allowed at this stage (the allowed actions are named)"},
        **VERSIONED,
    },
)
async def act(
    case_id: int, body: ActionIn, actor: ActorDep, engine: EngineDep, if_match: IfMatch = None
) -> JSONResponse:
    case = await in_tx(
        engine, lambda c: actions.act(c, case_id, body.action, body.note, actor, if_match)
    )
    return _case_response(case)


@router.post(
    "/{case_id}/location",
    summary="Place a case (a point or an address): its grid and unit follow; needs_location ends",
    responses={
        409: {"description": "the case is closed or cancelled"},
        422: {"description": "the point is outside every grid, or the address is not sure"},
        **VERSIONED,
    },
)
async def place(
    case_id: int, body: PlaceIn, actor: ActorDep, engine: EngineDep, if_match: IfMatch = None
) -> JSONResponse:
    given = any(v is not None for v in (body.lon, body.lat, body.x, body.y))
    x, y = _xy(body) if given else (None, None)
    case = await in_tx(
        engine,
        lambda c: placing.place_case(c, case_id, actor, if_match, x, y, body.crs, body.address),
    )
    return _case_response(case)


@router.get("/{case_id}/history", summary="Every transition of a case, oldest first")
async def history(case_id: int, actor: ActorDep, engine: EngineDep) -> Any:
    rows = await in_tx(engine, lambda c: read.history(c, case_id, actor))
    return JSONResponse(
        {"case_id": case_id, "history": rows}, headers={"Cache-Control": "private, no-store"}
    )
