"""GET and POST /api/v1/geocode: addresses to ranked candidates (point, owner chain, matched
text, score, precision); GET /api/v1/reverse: the address of a point. Answers are public: the
owner chain carries codes and names only, never a leader (the gazetteer layer is public in
the access policy)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import orjson
from fastapi import APIRouter, Query
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from pydantic import BaseModel, Field

from api.auth import ActorDep
from gis.access.policy import may_read_features
from gis.access.roles import PUBLIC_ROLE
from gis.errors import BadParameter, Forbidden, InvalidInput, TooLarge
from gis.geocode.answer import MAX_LENGTH, check_text, geocode
from gis.geocode.cache import current_index, held_index
from gis.geocode.index import GazetteerIndex
from gis.geocode.reverse import reverse
from gis.owners.pointcheck import check_points
from gis.registry.layers import get_layer
from gis.store.db import get_engine
from gis.store.settings import get_settings

router = APIRouter(prefix="/api/v1", tags=["geocode"])
MAX_ADDRESSES = 10_000
GAZETTEER = get_layer("gazetteer")
EXAMPLE = {
    "status": "ok",
    "candidates": [
        {
            "address": "庄塘区锦兴镇坑后村2组14号",
            "lon": 119.0123456,
            "lat": 25.4123456,
            "precision": "门牌",
            "score": 1.0,
            "matched": "坑后村2组14号",
            "level": "house",
            "code": "359901101205G02H014",
            "owner": {
                "district": {"code": "359901000000", "name": "庄塘区"},
                "town": {"code": "359901101000", "name": "锦兴镇"},
                "village": {"code": "359901101205", "name": "坑后村"},
                "grid": {"code": "359901101205002", "name": "坑后村第2网格"},
                "unit": {"code": "359901101205002003", "name": "坑后村第2网格3单元"},
            },
        }
    ],
}


async def _index() -> GazetteerIndex:
    """The index this server holds (re-checked once a second by api/app.py's background task),
    built on the first request."""
    engine = get_engine()
    held = held_index(engine)
    return held if held is not None else await run_in_threadpool(current_index, engine)


async def geocode_answer(q: Mapping[str, str]) -> bytes:
    """GET /geocode's JSON body for its query parameters (also answered by api/hotpaths.py)."""
    text = check_text(q.get("q"), "q") if q.get("q") is not None else None
    if text is None:
        raise BadParameter("q", "required: the address to place, e.g. ?q=锦兴镇坑后村2组14号")
    ix = await _index()
    return orjson.dumps({"query": text, **geocode(ix, text)})


@router.get(
    "/geocode",
    summary="Place one address: candidates best first, with point, owners, score, precision",
    responses={200: {"content": {"application/json": {"example": EXAMPLE}}}},
)
async def geocode_one(
    actor: ActorDep,
    q: str = Query(..., description=f"the address (at most {MAX_LENGTH} characters)"),
) -> Response:
    if not may_read_features(GAZETTEER, actor):
        raise Forbidden(f"a {actor.role} may not read the gazetteer")
    return Response(await geocode_answer({"q": q}), media_type="application/json")


class Addresses(BaseModel):
    """Addresses to place, answered in the same order."""

    q: list[Any] = Field(..., description="addresses (text)", examples=[["锦兴镇坑后村2组14号"]])


def _one(ix: GazetteerIndex, raw: Any, i: int) -> dict[str, Any]:
    try:
        return geocode(ix, check_text(raw, f"q[{i}]"))
    except InvalidInput as exc:
        return {"status": "error", "error": str(exc), "candidates": []}


@router.post("/geocode", summary=f"Place many addresses (up to {MAX_ADDRESSES:,}), in order")
async def geocode_many(body: Addresses, actor: ActorDep) -> Response:
    if not may_read_features(GAZETTEER, actor):
        raise Forbidden(f"a {actor.role} may not read the gazetteer")
    most = get_settings().public_max_points if actor.role == PUBLIC_ROLE else MAX_ADDRESSES
    if len(body.q) > most:
        raise TooLarge(
            f"{len(body.q):,} addresses: at most {most:,} per request"
            + (" without a token" if actor.role == PUBLIC_ROLE else "")
            + "; split them, or use `onemap geocode --csv` for a file"
        )
    ix = await _index()
    results = await run_in_threadpool(lambda: [_one(ix, a, i) for i, a in enumerate(body.q)])
    return Response(orjson.dumps({"results": results}), media_type="application/json")


def _coordinate(raw: str | None, name: str) -> float:
    if raw is None or not raw.strip():
        raise BadParameter(name, "required (EPSG:4326 degrees)")
    try:
        value = float(raw)
    except ValueError:
        raise BadParameter(name, f"{raw[:40]!r} is not a number") from None
    if not math.isfinite(value):
        raise BadParameter(name, f"{raw[:40]!r} is not a finite number")
    return value


@router.get("/reverse", summary="The address of a point: the nearest house number in its grid")
async def reverse_one(
    actor: ActorDep,
    lon: str | None = Query(None, description="longitude, EPSG:4326"),
    lat: str | None = Query(None, description="latitude, EPSG:4326"),
) -> Response:
    if not may_read_features(GAZETTEER, actor):
        raise Forbidden(f"a {actor.role} may not read the gazetteer")
    x, y = _coordinate(lon, "lon"), _coordinate(lat, "lat")
    ix = await _index()
    checked = check_points(np.array([x]), np.array([y]), 4326, ix.plan.extent)
    if checked.problems[0]:
        raise BadParameter("lon", checked.problems[0])
    answer = await run_in_threadpool(reverse, ix, x, y)
    return Response(orjson.dumps(answer), media_type="application/json")
