"""The API documentation at /docs, with Swagger UI served from our own /vendor (no CDN)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse

from layers.assets import URL_PREFIX

router = APIRouter(include_in_schema=False)


@router.get("/docs")
async def docs(request: Request) -> HTMLResponse:
    return get_swagger_ui_html(
        openapi_url=str(request.app.openapi_url),
        title="OneMap (一张图) API",
        swagger_js_url=f"{URL_PREFIX}/swagger-ui/swagger-ui-bundle.js",
        swagger_css_url=f"{URL_PREFIX}/swagger-ui/swagger-ui.css",
        swagger_favicon_url=f"{URL_PREFIX}/swagger-ui/favicon-32x32.png",
    )
