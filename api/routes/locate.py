"""GET and POST /api/v1/locate: which grid and unit own a point, or many; a signed-in
caller's single answer also carries the grid's and unit's leaders as the policy shows them."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Annotated, Any, Literal

import numpy as np
import orjson
from fastapi import APIRouter, Body, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from pydantic import BaseModel, Field, field_validator

from api.auth import ActorDep
from api.deps import EngineDep
from api.routes.locate_bulk import OPENAPI as BULK_OPENAPI
from api.routes.locate_bulk import BulkRoute, columns_answer, limit_points, plan
from gis.crs.systems import InputCRS, crs_name, is_lonlat, parse_crs
from gis.errors import BadParameter, InvalidCRS, OutsideCoverage
from gis.owners.cache import cached_plan_index, plan_index
from gis.owners.leaders import leaders_shown, with_leaders
from gis.owners.model import DEFAULT_TOLERANCE_M
from gis.owners.pointcheck import check_points
from gis.store.db import get_engine

router = APIRouter(prefix="/api/v1", tags=["locate"])
MAX_POINTS = 100_000

CRS_HELP = (
    "EPSG:4326 (default), EPSG:4490, EPSG:4513-4554 (CGCS2000 Gauss-Krüger, x/y in "
    "metres), GCJ02 (AMap, Tencent) or BD09 (Baidu); case-insensitive"
)

INSIDE_EXAMPLE = {
    "lon": 119.01,
    "lat": 25.43,
    "crs": "EPSG:4326",
    "status": "inside",
    "district": {"code": "359902000000", "name": "桥岭区"},
    "town": {"code": "359902103000", "name": "湖泰镇"},
    "village": {"code": "359902103205", "name": "阳昌村"},
    "grid": {"code": "359902103205003", "name": "阳昌村第3网格"},
    "unit": {"code": "359902103205003003", "name": "阳昌村第3网格3单元"},
    "on_boundary": False,
    "distance_m": None,
}


def _crs(text: str | None) -> InputCRS:
    try:
        return parse_crs(text)
    except InvalidCRS as exc:
        raise BadParameter("crs", str(exc)) from None


def _number(q: Any, name: str, low: float | None = None, high: float | None = None) -> float | None:
    raw = q.get(name)
    if raw is None:
        return None
    try:
        value = float(raw)
    except ValueError:
        raise BadParameter(name, f"{raw[:40]!r} is not a valid number") from None
    if not math.isfinite(value):
        raise BadParameter(name, f"{raw[:40]!r} is not a finite number")
    if (low is not None and value < low) or (high is not None and value > high):
        raise BadParameter(
            name, f"must be greater than or equal to {low:g} and at most {high:g}, not {value:g}"
        )
    return value


@router.get(
    "/locate",
    summary="Which grid and unit own one point",
    responses={
        200: {
            "description": "The owner chain",
            "content": {"application/json": {"example": INSIDE_EXAMPLE}},
        },
        404: {"description": "Outside coverage: a problem with the nearest grid and its distance"},
        422: {
            "description": "A bad parameter, swapped coordinates, or a point far outside the city"
        },
    },
    openapi_extra={
        "security": [{}],  # after the bearer scheme: a token is optional (it adds leaders)
        "parameters": [
            {
                "name": "lon",
                "in": "query",
                "description": "longitude (geographic CRSs)",
                "schema": {"type": "number"},
                "example": 119.01,
            },
            {
                "name": "lat",
                "in": "query",
                "description": "latitude (geographic CRSs)",
                "schema": {"type": "number"},
                "example": 25.43,
            },
            {
                "name": "x",
                "in": "query",
                "description": "easting in metres (Gauss-Krüger CRSs)",
                "schema": {"type": "number"},
            },
            {
                "name": "y",
                "in": "query",
                "description": "northing in metres (Gauss-Krüger CRSs)",
                "schema": {"type": "number"},
            },
            {
                "name": "crs",
                "in": "query",
                "description": CRS_HELP,
                "schema": {"type": "string", "default": "EPSG:4326"},
                "example": "GCJ02",
            },
            {
                "name": "tolerance_m",
                "in": "query",
                "description": "snap distance in metres",
                "schema": {"type": "number", "minimum": 0, "maximum": 1000, "default": 50},
            },
        ],
    },
)
async def locate_one(request: Request, actor: ActorDep, engine: EngineDep) -> Response:
    body = await locate_answer(request.query_params)
    if not leaders_shown(actor.role):  # the public's answer, as the hot path gives it
        return Response(body, media_type="application/json")
    answer = orjson.loads(body)

    def add_leaders() -> dict[str, Any]:
        with engine.connect() as conn:
            return with_leaders(conn, answer, actor.role)

    return Response(
        orjson.dumps(await run_in_threadpool(add_leaders)),
        media_type="application/json",
        headers={"Cache-Control": "private, no-store"},
    )


async def locate_answer(q: Mapping[str, str]) -> bytes:
    """GET /locate's JSON body for its query parameters; a domain error otherwise.

    Shared by the route above (which documents it) and api/hotpaths.py, which answers it
    without FastAPI's routing and dependency machinery.
    """
    # Parameters are read by hand (documented above): FastAPI's per-parameter validation
    # cost a third of this endpoint's throughput (measured with wrk).
    engine = get_engine()
    lon, lat, x, y = (_number(q, n) for n in ("lon", "lat", "x", "y"))
    tolerance = _number(q, "tolerance_m", 0.0, 1000.0)
    tolerance_m = DEFAULT_TOLERANCE_M if tolerance is None else tolerance
    crs = q.get("crs")
    parsed = _crs(crs)
    if is_lonlat(parsed):
        if x is not None or y is not None:
            raise BadParameter("x", f"{crs or 'EPSG:4326'} is geographic: give lon and lat")
        if lon is None or lat is None:
            raise BadParameter("lon" if lon is None else "lat", "lon and lat are required")
        px, py = lon, lat
    else:
        if lon is not None or lat is not None:
            raise BadParameter("lon", f"{crs} is projected: give x and y in metres")
        if x is None or y is None:
            raise BadParameter("x" if x is None else "y", "x and y are required")
        px, py = x, y
    # Answered in the event loop from the plan index, which a background task re-checks
    # against the database every second (api/app.py); the first request may build it.
    index = cached_plan_index(engine)
    if index is None:
        index = await run_in_threadpool(plan_index, engine)
    checked = check_points(np.array([px]), np.array([py]), parsed, index.extent)
    if checked.problems[0]:
        raise BadParameter("lon" if is_lonlat(parsed) else "x", checked.problems[0])
    # The in-process index answers in ~40 µs with no round trip (PostGIS takes ~0.4 ms plus
    # pool and thread overhead; bench/http_locate.py measured both); same rules, same answers.
    lon_s, lat_s = float(checked.lon[0]), float(checked.lat[0])
    crs_name = crs.upper() if crs else "EPSG:4326"
    fast = index.inside(lon_s, lat_s)
    if fast is not None:  # the usual case: a point inside a unit, from a cached owner chain
        return orjson.dumps({**fast, "crs": crs_name})
    loc = index.location(lon_s, lat_s, tolerance_m)
    body = {**loc.as_dict(), "crs": crs_name}
    if loc.status == "outside":
        raise OutsideCoverage(
            f"outside coverage: the nearest grid is {loc.nearest.code}, "
            f"{loc.distance_m:,.0f} m away"
            if loc.nearest is not None and loc.distance_m is not None
            else "outside coverage: no grid plan is loaded yet (onemap import grids FILE)",
            lon=body["lon"],
            lat=body["lat"],
            crs=crs_name,
            nearest_grid=body.get("nearest_grid"),
            distance_m=body["distance_m"],
        )
    return json.dumps(body, ensure_ascii=False, allow_nan=False).encode()


class PointsBody(BaseModel):
    """Points as [x, y] pairs in one CRS."""

    crs: str | None = Field(None, description=CRS_HELP, examples=["EPSG:4326"])
    points: list[list[float]] = Field(
        ..., description="[lon, lat] or [x, y] pairs", examples=[[[119.01, 25.43], [119.02, 25.44]]]
    )
    tolerance_m: float = Field(DEFAULT_TOLERANCE_M, ge=0, le=1000)

    @field_validator("points")
    @classmethod
    def _pairs(cls, v: list[list[float]]) -> list[list[float]]:
        if len(v) > MAX_POINTS:
            raise ValueError(
                f"{len(v):,} points: at most {MAX_POINTS:,} per request; "
                "split the file or use `onemap locate --csv`"
            )
        for i, p in enumerate(v):
            if len(p) != 2:
                raise ValueError(f"point {i} has {len(p)} numbers; give [x, y]")
        return v


class ColumnsBody(BaseModel):
    """Points as columns: any columns, two of them the coordinates; the answer is columnar."""

    crs: str | None = Field(None, description=CRS_HELP, examples=["EPSG:4326"])
    columns: dict[str, list[Any]] = Field(
        ...,
        description="column name to values, one per point; every column comes back",
        examples=[{"id": ["a", "b"], "lon": [119.01, 119.02], "lat": [25.43, 25.44]}],
    )
    lon_col: str | None = Field(None, description="the longitudes' (x) column, if not lon")
    lat_col: str | None = Field(None, description="the latitudes' (y) column, if not lat")
    tolerance_m: float = Field(DEFAULT_TOLERANCE_M, ge=0, le=1000)
    bad_rows: Literal["refuse", "mark"] = Field(
        "refuse", description="refuse (a 422 listing the bad rows) or mark them"
    )

    @field_validator("columns")
    @classmethod
    def _rows(cls, v: dict[str, list[Any]]) -> dict[str, list[Any]]:
        lengths = {len(values) for values in v.values()}
        if len(lengths) > 1:
            raise ValueError(f"the columns differ in length ({sorted(lengths)}): one value a row")
        if lengths and max(lengths) > MAX_POINTS:
            raise ValueError(
                f"{max(lengths):,} rows: at most {MAX_POINTS:,} as JSON; send CSV, Arrow or "
                "GeoParquet for more"
            )
        return v


class PointFeature(BaseModel):
    type: Literal["Feature"]
    geometry: dict[str, Any]
    properties: dict[str, Any] | None = None


class FeatureCollectionBody(BaseModel):
    """A GeoJSON FeatureCollection of points (crs may be given beside it)."""

    type: Literal["FeatureCollection"]
    features: list[PointFeature]
    crs: str | dict[str, Any] | None = None
    tolerance_m: float = Field(DEFAULT_TOLERANCE_M, ge=0, le=1000)

    @field_validator("features")
    @classmethod
    def _points(cls, v: list[PointFeature]) -> list[PointFeature]:
        if len(v) > MAX_POINTS:
            raise ValueError(f"{len(v):,} features: at most {MAX_POINTS:,} per request")
        for i, f in enumerate(v):
            coords = f.geometry.get("coordinates")
            if (
                f.geometry.get("type") != "Point"
                or not isinstance(coords, list)
                or len(coords) < 2
                or not all(_is_number(c) for c in coords[:2])
            ):
                raise ValueError(f"feature {i} is not a Point with [x, y] coordinates (numbers)")
        return v

    @field_validator("crs")
    @classmethod
    def _named(cls, v: str | dict[str, Any] | None) -> str | dict[str, Any] | None:
        props = v.get("properties") if isinstance(v, dict) else None
        if isinstance(v, dict) and not (
            isinstance(props, dict) and isinstance(props.get("name"), str)
        ):
            raise ValueError('give crs as a name, or {"type": "name", "properties": {"name": ...}}')
        return v


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def locate_many(
    engine: EngineDep,
    actor: ActorDep,
    body: Annotated[
        PointsBody | FeatureCollectionBody | ColumnsBody,
        Body(
            openapi_examples={
                "pairs": {
                    "summary": "pairs",
                    "value": {"crs": "GCJ02", "points": [[119.015, 25.427], [119.02, 25.44]]},
                },
                "columns": {
                    "summary": "columns",
                    "value": {
                        "columns": {
                            "id": ["a", "b"],
                            "lon": [119.01, 119.02],
                            "lat": [25.43, 25.44],
                        }
                    },
                },
                "geojson": {
                    "summary": "GeoJSON",
                    "value": {
                        "type": "FeatureCollection",
                        "features": [
                            {
                                "type": "Feature",
                                "geometry": {"type": "Point", "coordinates": [119.01, 25.43]},
                                "properties": {},
                            }
                        ],
                    },
                },
            }
        ),
    ],
) -> Any:
    if isinstance(body, ColumnsBody):
        rows = len(next(iter(body.columns.values()), []))
        limit_points(actor, rows)
        index = plan(engine)
        mark = body.bad_rows == "mark"
        crs = _crs(body.crs)
        cols = columns_answer(
            body.columns, index, crs, body.lon_col, body.lat_col, body.tolerance_m, mark
        )
        return {"crs": crs_name(crs), "count": rows, "columns": cols}
    if isinstance(body, PointsBody):
        crs_text = body.crs
        xy = np.array(body.points, dtype=float).reshape(-1, 2)
    else:
        crs_text = (
            body.crs
            if isinstance(body.crs, str)
            else ((body.crs or {}).get("properties", {}).get("name"))
        )
        xy = np.array([f.geometry["coordinates"][:2] for f in body.features], dtype=float).reshape(
            -1, 2
        )
    limit_points(actor, len(xy))
    parsed = _crs(crs_text)
    index = plan(engine)  # the database does not answer: the plan held in memory still does
    checked = check_points(xy[:, 0], xy[:, 1], parsed, index.extent)
    ok = np.array([p is None for p in checked.problems], dtype=bool)
    owners = index.owners(checked.lon[ok], checked.lat[ok], body.tolerance_m)
    results: list[dict[str, Any]] = []
    k = 0
    for i, problem in enumerate(checked.problems):
        if problem:
            results.append(
                {
                    "lon": float(xy[i, 0]),
                    "lat": float(xy[i, 1]),
                    "status": "error",
                    "error": problem,
                }
            )
            continue
        loc = index.describe(owners, k, float(checked.lon[i]), float(checked.lat[i]))
        results.append(loc.as_dict())
        k += 1
    return {
        "crs": crs_text.upper() if crs_text else "EPSG:4326",
        "count": len(results),
        "results": results,
    }


# Added by hand: a file body must reach BulkRoute before FastAPI reads the body.
router.add_api_route(
    "/locate",
    locate_many,
    methods=["POST"],
    summary="Which grid and unit own each of many points: JSON (up to 100,000) or a file",
    route_class_override=BulkRoute,
    openapi_extra=BULK_OPENAPI,
    responses={
        200: {
            "content": {
                "application/json": {
                    "example": {
                        "crs": "EPSG:4326",
                        "count": 2,
                        "results": [
                            INSIDE_EXAMPLE,
                            {
                                "lon": 25.43,
                                "lat": 119.01,
                                "status": "error",
                                "error": "(25.43, 119.01) looks swapped (lat, lon): give "
                                "longitude first, then latitude",
                            },
                        ],
                    }
                }
            }
        }
    },
)
