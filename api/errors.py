"""The one place where domain errors become HTTP responses."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from gis.errors import (
    DatabaseUnavailable,
    Forbidden,
    IllegalTransition,
    ImportRejected,
    InvalidCRS,
    InvalidInput,
    NotAuthenticated,
    NotFound,
    OneMapError,
    PreconditionRequired,
    StaleVersion,
    UnknownLayer,
)
from layers.features import BadParameter

STATUS: list[tuple[type[OneMapError], int]] = [
    (DatabaseUnavailable, 503),
    (NotAuthenticated, 401),
    (Forbidden, 403),
    (NotFound, 404),
    (IllegalTransition, 409),
    (StaleVersion, 412),
    (PreconditionRequired, 428),
    (UnknownLayer, 404),
    (InvalidCRS, 422),
    (InvalidInput, 422),
    (ImportRejected, 422),
]


def install(app: FastAPI) -> None:
    """Register the mapping on `app`."""

    @app.exception_handler(OneMapError)
    async def _domain_error(request: Request, exc: OneMapError) -> JSONResponse:
        status = next((code for cls, code in STATUS if isinstance(exc, cls)), 400)
        headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
        return JSONResponse(
            {"detail": str(exc), "error": type(exc).__name__}, status_code=status, headers=headers
        )

    @app.exception_handler(BadParameter)
    async def _bad_parameter(request: Request, exc: BadParameter) -> JSONResponse:
        # OGC API's exception document: 400 with a code and a description naming the value.
        return JSONResponse(
            {"code": "InvalidParameterValue", "description": str(exc), "parameter": exc.param},
            status_code=400,
        )
