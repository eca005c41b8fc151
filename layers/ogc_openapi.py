"""The OpenAPI 3.0 definition of /ogc (the `service-desc`), generated from the registry.

FastAPI's own document is OpenAPI 3.1; the OGC conformance class oas30 asks for 3.0, with
one items path per collection so that each lists its own queryables.
"""

from __future__ import annotations

from typing import Any

from gis.registry.layers import LAYERS
from layers.features import DEFAULT_LIMIT, MAX_LIMIT, queryables

_JSON = {"application/json": {"schema": {"type": "object"}}}
_GEOJSON = {"application/geo+json": {"schema": {"type": "object"}}}
_ERROR = {"description": "A bad parameter, named in the body", "content": _JSON}


def _get(summary: str, content: dict[str, Any], params: list[Any] | None = None) -> dict[str, Any]:
    op: dict[str, Any] = {
        "summary": summary,
        "responses": {"200": {"description": summary, "content": content}, "400": _ERROR},
    }
    if params:
        op["parameters"] = params
    return {"get": op}


def _query(name: str, schema: dict[str, Any], description: str, **more: Any) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "schema": schema,
        "description": description,
        "style": "form",
        "explode": False,
        **more,
    }


COMMON = [
    _query(
        "limit",
        {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT},
        f"features per page (larger values are served as {MAX_LIMIT})",
    ),
    _query("offset", {"type": "integer", "minimum": 0, "default": 0}, "features to skip"),
    _query(
        "bbox",
        {"type": "array", "minItems": 4, "maxItems": 6, "items": {"type": "number"}},
        "minlon,minlat,maxlon,maxlat in CRS84",
    ),
]
DATETIME = _query(
    "datetime", {"type": "string"}, "an RFC 3339 instant or interval (start/end, .. open)"
)


def openapi(base: str) -> dict[str, Any]:
    paths: dict[str, Any] = {
        "/ogc": _get("Landing page", _JSON),
        "/ogc/conformance": _get("Conformance classes", _JSON),
        "/ogc/collections": _get("The layers", _JSON),
    }
    for layer in LAYERS.values():
        url = f"/ogc/collections/{layer.id}"
        params = list(COMMON)
        if layer.datetime_field:
            params.append(DATETIME)
        for p in queryables(layer).values():
            schema: dict[str, Any] = {"type": "string"}
            if p.enum:
                schema["enum"] = list(p.enum)
            params.append(_query(p.name, schema, p.description or f"equal to this {p.name}"))
        paths[url] = _get(layer.title, _JSON)
        paths[f"{url}/items"] = _get(f"Features of {layer.title}", _GEOJSON, params)
        paths[f"{url}/queryables"] = _get(f"Queryables of {layer.title}", _JSON)
        fid = {
            "name": "featureId",
            "in": "path",
            "required": True,
            "schema": {"type": "string"},
            "description": f"the feature's {layer.id_field}",
        }
        single = _get(f"One feature of {layer.title}", _GEOJSON, [fid])
        single["get"]["responses"]["404"] = {"description": "No such feature"}
        paths[f"{url}/items/{{featureId}}"] = single
    return {
        "openapi": "3.0.3",
        "info": {"title": "OneMap (一张图) OGC API - Features", "version": "1.0.0"},
        "servers": [{"url": base}],
        "paths": paths,
    }
