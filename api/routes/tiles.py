"""Vector tiles, tile-ready GeoJSON and TileJSON at /tiles: thin routes over layers/tiles.py."""

from __future__ import annotations

import gzip
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
from gis.store.db import UNREACHABLE
from layers import features, tiles, tileset

router = APIRouter(prefix="/tiles", tags=["tiles"])
MEDIA = {
    "mvt": "application/vnd.mapbox-vector-tile",
    "geojson": "application/geo+json",
    "geojson-whole": "application/geo+json",
}
INTEGER = re.compile(r"-?[0-9]{1,12}")  # a tile number (out of range: the tile maths says so)
# Clients may keep a tile but must revalidate it (a 304 when unchanged): edits show at once.
CACHE_CONTROL = "public, no-cache"
# A combined tile asked for with the current plan version (?v=) never changes at that URL.
KEEP = "public, max-age=31536000, immutable"
GZIP_ABOVE = 1000  # bytes: smaller answers go as they are


def compressed(request: Request, key: str | None, body: bytes) -> tuple[bytes, dict[str, str]]:
    """The body gzipped when the client accepts it (kept in the tile cache under `key`, if
    given), and the headers that say so."""
    if len(body) < GZIP_ABOVE or "gzip" not in request.headers.get("accept-encoding", ""):
        return body, {"Vary": "Accept-Encoding"}
    packed = tiles.CACHE.get(key + ":gz") if key else None
    if packed is None:
        packed = gzip.compress(body, compresslevel=5)
        if key:
            tiles.CACHE.put(key + ":gz", packed)
    return packed, {"Content-Encoding": "gzip", "Vary": "Accept-Encoding"}


def _tile(z: str, x: str, y: str, size: int = 256) -> tiles.Tile:
    """The tile at z/x/y: BadParameter for a part that is not an integer, TileOutOfRange
    (from the tile maths) for one that names no tile."""
    if size not in tiles.SIZES:
        raise BadParameter("size", f"{size}: use 256 or 512 (pixels)")
    address: list[int] = []
    for name, raw in (("z", z), ("x", x), ("y", y)):
        if not INTEGER.fullmatch(raw):  # ASCII only: int() takes '٣', '1_0' and ' 5' too
            raise BadParameter(
                name, f"tile address {z[:14]}/{x[:14]}/{y[:14]} must be three integers z/x/y"
            )
        address.append(int(raw))
    z_, x_, y_ = address
    return tiles.Tile(z_, x_, y_, size)


async def _serve(
    request: Request, engine: Any, actor: Actor, layer_id: str, z: str, x: str, y: str, fmt: str
) -> Response:
    get_layer(layer_id)  # an unknown layer is a 404 naming the layers there are
    tile = _tile(z, x, y)

    def build() -> tuple[str, bytes]:
        try:
            with engine.connect() as conn:
                return tiles.render(conn, layer_id, tile, fmt, actor)
        except UNREACHABLE:  # the database does not answer: a cached tile is still the tile
            hit = tiles.cached(str(engine.url), layer_id, tile, fmt, actor)
            if hit is None:
                raise
            return hit

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


@router.get(
    "/combined/{z}/{x}/{y}.json",
    summary="Several layers in one GeoJSON tile (the console's map: one request per tile)",
    description="A JSON object mapping each named layer with features in the tile to its "
    "FeatureCollection (whole features touching the tile, simplified to the zoom; "
    "layers with none are left out). Cases are not combinable (they change with every "
    "case): /api/v1/cases/counts.geojson gives a view's counts. With `v` equal to the "
    "current plan version (the X-Plan-Version header, /api/v1/config) the answer may be "
    "kept for good; any edit of a layer gives a new version.",
)
async def combined_tile(
    z: str,
    x: str,
    y: str,
    request: Request,
    engine: EngineDep,
    actor: ActorDep,
    layers: str = Query(..., description=f"comma-separated: {', '.join(tileset.COMBINABLE)}"),
    size: int = Query(256, description="tile width in pixels: 256, or 512 (a tile at z + 1)"),
    v: str | None = Query(None, description="the plan version the client has"),
) -> Response:
    ids = tileset.layer_list(layers)
    tile = _tile(z, x, y, size)

    def build() -> tuple[str, str, bytes]:
        with engine.connect() as conn:
            return tileset.combined(conn, ids, tile, actor)

    key, version, body = await run_in_threadpool(build)
    etag = f'"{key}"'
    shared = tileset.shared(ids, actor)
    headers = {  # a reader's own tile (none so far) is never kept without asking
        "ETag": etag,
        "Cache-Control": KEEP if shared and v == version else CACHE_CONTROL,
        "X-Plan-Version": version,
    }
    if not shared:
        headers["Cache-Control"] = "private, no-cache"
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    payload, coding = compressed(request, key, body)
    return Response(payload, media_type="application/json", headers={**headers, **coding})


@router.get("/{layer_id}.json", summary="TileJSON 3.0.0 of a layer's vector tiles")
async def tilejson(layer_id: str, request: Request, engine: EngineDep) -> Response:
    layer = get_layer(layer_id)

    def bounds() -> Any:
        with engine.connect() as conn:
            return features.extent(conn, layer)

    base = str(request.base_url).rstrip("/")
    return JSONResponse(tiles.tilejson(base, layer_id, await run_in_threadpool(bounds)))
