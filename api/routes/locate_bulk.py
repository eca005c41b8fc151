"""POST /api/v1/locate with a file for a body (CSV, Arrow IPC stream, GeoParquet) or columnar
JSON: every input column kept, the owner columns added, the answer in the body's format.

How a bulk request runs, and why:
1. the body streams to a temporary file as it arrives (never whole in memory; the body limit of
   api/limits.py counts it on the way and answers 413 past it);
2. the file is read once, point columns only, and every row checked (a number, finite, within
   the city, not swapped; a CSV row that splits into the wrong number of fields). A bad row
   refuses the whole file with a 422 that lists the rows and why (RowsRejected), before a
   byte of the answer is sent: nothing is half-answered. bad_rows=mark answers instead, with
   those rows' locate_status "error" and the reason in locate_error;
3. the file is read again in batches, each batch located and written back at once, so the
   answer streams out as it is computed (its row count is in X-OneMap-Rows for progress).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Coroutine, Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response, StreamingResponse
from fastapi.routing import APIRoute
from sqlalchemy.engine import Engine
from starlette.requests import Request

from api.auth import SCHEME, bearer, current_actor
from gis.access.roles import PUBLIC_ROLE, Actor
from gis.crs.systems import InputCRS
from gis.errors import BadParameter, TooLarge
from gis.io.read import LAT_NAMES, LON_NAMES, _pick
from gis.owners.bulk import PointColumns, check_batches, refuse_clashes, with_owners
from gis.owners.bulk_io import MEDIA, Format, answer, format_of, open_input
from gis.owners.cache import cached_plan_index, owner_index
from gis.owners.index import OwnerIndex
from gis.owners.model import DEFAULT_TOLERANCE_M
from gis.store.db import UNREACHABLE, get_engine
from gis.store.settings import get_settings

BAD_ROWS = ("refuse", "mark")
QUERY_DOCS = [
    ("crs", "the points' CRS (as for GET); a GeoParquet file's own CRS otherwise", "string"),
    ("lon_col", "the column of longitudes or x (default: lon, lng, x, 经度...)", "string"),
    ("lat_col", "the column of latitudes or y (default: lat, y, 纬度...)", "string"),
    ("tolerance_m", "snap distance in metres (0-1000, default 50)", "number"),
    ("bad_rows", "refuse (default: a 422 listing the bad rows) or mark", "string"),
]
OPENAPI: dict[str, Any] = {
    "description": (
        "A file of points (CSV, an Arrow IPC stream or GeoParquet, by Content-Type) comes back "
        "in its format with every column kept and the owner columns added, streamed as it is "
        "computed; a file with bad rows is refused whole (422 listing them) unless "
        "bad_rows=mark. JSON: pairs or GeoJSON (one object per point), or "
        '`{"columns": {"id": [...], "lon": [...], "lat": [...]}}` for a columnar answer. '
        "The query parameters apply to files."
    ),
    "parameters": [
        {"name": n, "in": "query", "description": d, "schema": {"type": t}}
        for n, d, t in QUERY_DOCS
    ],
    "requestBody": {
        "content": {m: {"schema": {"type": "string", "format": "binary"}} for m in MEDIA.values()}
    },
}


def plan(engine: Engine) -> OwnerIndex:
    """The current plan's owner index; the one held in memory when the database is down."""
    try:
        with engine.connect() as conn:
            return owner_index(conn)
    except UNREACHABLE:
        held = cached_plan_index(engine)
        if held is None:
            raise
        return held


def limit_points(actor: Actor, rows: int) -> None:
    most = get_settings().public_max_points
    if actor.role == PUBLIC_ROLE and rows > most:
        raise TooLarge(
            f"{rows:,} points: without a token a batch holds at most {most:,}; send a token "
            "(Authorization: Bearer ...) for up to 100,000 as JSON and more as a file, or use "
            "`onemap locate --csv` for a file"
        )


def _bad_rows(value: str | None) -> bool:
    """Whether bad rows are marked (else refused)."""
    if value is None or value in BAD_ROWS:
        return value == "mark"
    raise BadParameter("bad_rows", f"{value[:40]!r}: give refuse or mark")


async def _spool(request: Request, suffix: str) -> Path:
    """The request body in a temporary file, written as it arrives."""
    fd, name = tempfile.mkstemp(prefix="onemap-locate-", suffix=suffix)
    try:
        with os.fdopen(fd, "wb") as f:
            async for chunk in request.stream():
                f.write(chunk)
    except BaseException:
        os.unlink(name)
        raise
    return Path(name)


async def bulk_answer(request: Request, fmt: Format) -> Response:
    """The answer to a file body (see the module's docstring)."""
    from api.routes.locate import _crs, _number  # the GET route's parameter checks

    engine = get_engine()
    actor = await current_actor(request, engine, await bearer(request, await SCHEME(request)))
    q = request.query_params
    tolerance = _number(q, "tolerance_m", 0.0, 1000.0)
    mark = _bad_rows(q.get("bad_rows"))
    charset = request.headers.get("content-type", "").partition("charset=")[2].strip(' "')
    path = await _spool(request, "." + fmt)
    try:
        inp = await run_in_threadpool(
            open_input, path, fmt, q.get("lon_col"), q.get("lat_col"), charset or None
        )
        crs: InputCRS = _crs(q["crs"]) if "crs" in q else (inp.crs or _crs(None))
        index = await run_in_threadpool(plan, engine)
        check = await run_in_threadpool(inp.check, crs, index.extent)
        limit_points(actor, check.rows)
        check.refuse(inp.name, mark)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    tol = DEFAULT_TOLERANCE_M if tolerance is None else tolerance

    def chunks() -> Iterator[bytes]:
        try:
            yield from answer(inp, index, crs, tol)
        finally:
            path.unlink(missing_ok=True)

    headers = {"X-OneMap-Rows": str(check.rows), "Cache-Control": "no-store"}
    return StreamingResponse(chunks(), media_type=MEDIA[fmt], headers=headers)


def columns_answer(
    columns: dict[str, list[Any]],
    index: OwnerIndex,
    crs: InputCRS,
    lon_col: str | None,
    lat_col: str | None,
    tolerance_m: float,
    mark: bool,
) -> dict[str, list[Any]]:
    """Columnar JSON: the columns given, the owner columns added (refused as a file is)."""
    names = list(columns)
    refuse_clashes(names, "the columns")
    where = PointColumns(
        _pick(names, lon_col, LON_NAMES, "longitude"), _pick(names, lat_col, LAT_NAMES, "latitude")
    )
    arrays = []
    for name, values in columns.items():
        try:
            arrays.append(pa.array(values))
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            raise BadParameter(f"columns.{name}", "mixes numbers, text or lists") from None
    batch = pa.RecordBatch.from_arrays(arrays, names=names)
    check_batches([batch], where, crs, index.extent).refuse("the columns", mark)
    located = with_owners(batch, index, where, crs, tolerance_m)
    return {name: located.column(name).to_pylist() for name in located.schema.names}


class BulkRoute(APIRoute):
    """POST /locate: a file body (by Content-Type) goes to bulk_answer before FastAPI reads
    it (FastAPI would read a body whole); JSON goes to the documented JSON route."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        json_route = super().get_route_handler()

        async def route(request: Request) -> Response:
            fmt = format_of(request.headers.get("content-type", ""))
            if fmt is None:
                return await json_route(request)
            return await bulk_answer(request, fmt)

        return route
