"""Vector tiles, tile-ready GeoJSON and TileJSON at /tiles: thin routes over layers/tiles.py."""

from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response

from api.auth import ActorDep
from api.deps import EngineDep
from gis.access.roles import PUBLIC_ROLE, Actor
from gis.errors import BadParameter
from gis.registry.layers import get_layer
from layers import features, tiles

router = APIRouter(prefix="/tiles", tags=["tiles"])
MEDIA = {
    "mvt": "application/vnd.mapbox-vector-tile",
    "geojson": "application/geo+json",
    "geojson-whole": "application/geo+json",
}
INTEGER = re.compile(r"-?[0-9]{1,12}")  # a tile number (out of range: the tile maths says so)
# Clients may keep a tile but must revalidate it (a 304 when unchanged): edits show at once.
CACHE_CONTROL = "public, no-cache"


def _tile(z: str, x: str, y: str) -> tiles.Tile:
    """The tile at z/x/y: BadParameter for a part that is not an integer, TileOutOfRange
    (from the tile maths) for one that names no tile."""
    address: list[int] = []
    for name, raw in (("z", z), ("x", x), ("y", y)):
        if not INTEGER.fullmatch(raw):  # ASCII only: int() takes '٣', '1_0' and ' 5' too
            raise BadParameter(
                name, f"tile address {z[:14]}/{x[:14]}/{y[:14]} must be three integers z/x/y"
            )
        address.append(int(raw))
    return tiles.Tile(*address)


async def _serve(
    request: Request, engine: Any, actor: Actor, layer_id: str, z: str, x: str, y: str, fmt: str
) -> Response:
    get_layer(layer_id)  # an unknown layer is a 404 naming the layers there are
    tile = _tile(z, x, y)

    def build() -> tuple[str, bytes]:
        with engine.connect() as conn:
            return tiles.render(conn, layer_id, tile, fmt, actor)

    key, body = await run_in_threadpool(build)
    etag = f'"{key}"'
    cache = CACHE_CONTROL if actor.role == PUBLIC_ROLE else "private, no-cache"
    headers = {"ETag": etag, "Cache-Control": cache, "Vary": "Authorization"}
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    if not body:
        return Response(status_code=204, headers=headers)
    return Response(body, media_type=MEDIA[fmt], headers=headers)


@router.get("/{layer_id}/{z}/{x}/{y}.mvt", summary="A Mapbox Vector Tile of a layer")
async def mvt(
    layer_id: str, z: str, x: str, y: str, request: Request, engine: EngineDep, actor: ActorDep
) -> Response:
    return await _serve(request, engine, actor, layer_id, z, x, y, "mvt")


@router.get(
    "/{layer_id}/{z}/{x}/{y}.geojson",
    summary="A layer's features in a tile, clipped and simplified, as GeoJSON (EPSG:4326)",
)
async def geojson_tile(
    layer_id: str,
    z: str,
    x: str,
    y: str,
    request: Request,
    engine: EngineDep,
    actor: ActorDep,
    clip: bool = Query(
        True,
        description="clip polygons to the tile plus a buffer (false: whole simplified features "
        "touching the tile, for Leaflet layers that would otherwise draw the cut edges)",
    ),
) -> Response:
    fmt = "geojson" if clip else "geojson-whole"
    return await _serve(request, engine, actor, layer_id, z, x, y, fmt)


@router.get("/{layer_id}.json", summary="TileJSON 3.0.0 of a layer's vector tiles")
async def tilejson(layer_id: str, request: Request, engine: EngineDep) -> Response:
    layer = get_layer(layer_id)

    def bounds() -> Any:
        with engine.connect() as conn:
            return features.extent(conn, layer)

    base = str(request.base_url).rstrip("/")
    return JSONResponse(tiles.tilejson(base, layer_id, await run_in_threadpool(bounds)))
