"""OGC API - Features at /ogc: thin routes over layers/ogc.py (JSON for any Accept)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response

from api.auth import ActorDep
from api.deps import EngineDep
from gis.errors import NotFound
from gis.registry.layers import get_layer
from layers import ogc
from layers.ogc_openapi import openapi

router = APIRouter(prefix="/ogc", tags=["OGC API - Features"])


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def _params(request: Request) -> dict[str, list[str]]:
    params: dict[str, list[str]] = {}
    for key, value in request.query_params.multi_items():
        params.setdefault(key, []).append(value)
    return params


def _json(doc: Any, media_type: str = ogc.JSON) -> Response:
    return JSONResponse(doc, media_type=media_type)


@router.get("", summary="Landing page")
async def landing(request: Request) -> Response:
    return _json(ogc.landing(_base(request)))


@router.get("/conformance", summary="Conformance classes")
async def conformance() -> Response:
    return _json(ogc.conformance())


@router.get("/openapi", summary="The OpenAPI 3.0 definition of /ogc")
async def service_desc(request: Request) -> Response:
    return _json(openapi(_base(request)), "application/vnd.oai.openapi+json;version=3.0")


@router.get("/collections", summary="The layers")
async def collections(request: Request, engine: EngineDep) -> Response:
    def build() -> dict[str, Any]:
        with engine.connect() as conn:
            return ogc.collections(conn, _base(request))

    return _json(await run_in_threadpool(build))


@router.get("/collections/{layer_id}", summary="One layer")
async def collection(layer_id: str, request: Request, engine: EngineDep) -> Response:
    layer = get_layer(layer_id)

    def build() -> dict[str, Any]:
        from layers.features import extent, time_extent

        with engine.connect() as conn:
            return ogc.collection(
                _base(request), layer, extent(conn, layer), time_extent(conn, layer)
            )

    return _json(await run_in_threadpool(build))


@router.get("/collections/{layer_id}/queryables", summary="A layer's queryable properties")
async def queryables(layer_id: str, request: Request) -> Response:
    return _json(ogc.queryables(_base(request), get_layer(layer_id)), "application/schema+json")


@router.get(
    "/collections/{layer_id}/items",
    summary="A layer's features: limit, offset, bbox, datetime and equality on queryables",
    response_class=Response,
    responses={200: {"content": {"application/geo+json": {}}}},
)
async def items(layer_id: str, request: Request, engine: EngineDep, actor: ActorDep) -> Response:
    get_layer(layer_id)

    def build() -> str:
        with engine.connect() as conn:
            return ogc.items_page(conn, _base(request), layer_id, _params(request), actor)

    return Response(await run_in_threadpool(build), media_type=ogc.GEOJSON)


@router.get(
    "/collections/{layer_id}/items/{feature_id}",
    summary="One feature",
    response_class=Response,
    responses={200: {"content": {"application/geo+json": {}}}, 404: {"description": "none"}},
)
async def item(
    layer_id: str, feature_id: str, request: Request, engine: EngineDep, actor: ActorDep
) -> Response:
    get_layer(layer_id)

    def build() -> str | None:
        with engine.connect() as conn:
            return ogc.item_doc(conn, _base(request), layer_id, feature_id, actor)

    text = await run_in_threadpool(build)
    if text is None:
        raise NotFound(f"no feature {feature_id[:60]!r} in {layer_id!r}")
    return Response(text, media_type=ogc.GEOJSON)
