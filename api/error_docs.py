"""What /openapi.json says of error answers: the shapes api/errors.py gives them, per front."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from api.errors import FRONT_STATUS, MEDIA, Front, front_of

_TEXT = {"type": "string"}
SCHEMAS: dict[str, dict[str, Any]] = {
    "Problem": {
        "title": "Problem",
        "description": "RFC 9457 problem details; each type is described at its URI (/problems)",
        "type": "object",
        "required": ["type", "title", "status", "detail"],
        "properties": {
            "type": {
                "type": "string",
                "format": "uri-reference",
                "example": "/problems/bad-parameter",
            },
            "title": _TEXT,
            "status": {"type": "integer"},
            "detail": _TEXT,
            "parameter": {**_TEXT, "description": "the parameter at fault, where there is one"},
        },
        "additionalProperties": True,
    },
    "OGCException": {
        "title": "OGC API exception",
        "type": "object",
        "required": ["code"],
        "properties": {"code": _TEXT, "description": _TEXT, "parameter": _TEXT},
    },
    "GeoReportErrors": {
        "title": "GeoReport v2 errors",
        "type": "array",
        "items": {
            "type": "object",
            "required": ["code", "description"],
            "properties": {"code": {"type": "integer"}, "description": _TEXT},
        },
    },
}
SCHEMA_OF: dict[Front, str] = {
    "problem": "Problem",
    "ogc": "OGCException",
    "open311": "GeoReportErrors",
}
FASTAPI_SCHEMAS = ("HTTPValidationError", "ValidationError")


def _error_content(front: Front) -> dict[str, Any]:
    return {MEDIA[front]: {"schema": {"$ref": f"#/components/schemas/{SCHEMA_OF[front]}"}}}


def _fix(doc: dict[str, Any]) -> None:
    """Every 4xx/5xx response of every operation in the shape of its front, in place."""
    schemas = doc.setdefault("components", {}).setdefault("schemas", {})
    for name in FASTAPI_SCHEMAS:
        schemas.pop(name, None)
    schemas.update(SCHEMAS)
    for path, item in doc.get("paths", {}).items():
        front = front_of(path)
        for operation in item.values():
            responses = operation.get("responses", {})
            if "422" in responses and any(n in str(responses["422"]) for n in FASTAPI_SCHEMAS):
                del responses["422"]
                status = str(FRONT_STATUS[front].get(422, 422))
                responses.setdefault(status, {"description": "A bad parameter, named in the body"})
            for status, response in responses.items():
                if status[0] in "45":
                    response["content"] = _error_content(front)


def document(app: FastAPI) -> None:
    """Make `app`'s OpenAPI document describe the error answers as they are."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        first = app.openapi_schema is None
        doc = generate()
        if first:
            _fix(doc)
        return doc

    app.openapi = openapi  # type: ignore[method-assign]
