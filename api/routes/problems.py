"""/problems: what each problem type URI of an error answer means (RFC 9457's `type`)."""

from __future__ import annotations

import inspect
from html import escape

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from api.errors import problem_type, status_of, title_of
from gis.errors import NotFound, OneMapError

router = APIRouter(prefix="/problems", include_in_schema=False)


def _kinds() -> dict[str, type[OneMapError]]:
    """Every domain error class by its type URI, the base classes first."""
    found: dict[str, type[OneMapError]] = {}
    todo: list[type[OneMapError]] = [OneMapError]
    while todo:
        cls = todo.pop(0)
        todo.extend(cls.__subclasses__())
        if cls is not OneMapError:
            found[problem_type(cls)] = cls
    return found


def _row(uri: str, cls: type[OneMapError]) -> str:
    doc = escape(inspect.getdoc(cls) or "")
    return (
        f'<tr id="{uri.rsplit("/", 1)[1]}"><td><a href="{uri}">{uri}</a></td>'
        f"<td>{status_of(cls)}</td><td>{escape(title_of(cls))}</td><td>{doc}</td></tr>"
    )


def _page(title: str, rows: list[str]) -> HTMLResponse:
    return HTMLResponse(
        f'<!doctype html><html lang="en"><meta charset="utf-8"><title>{escape(title)}</title>'
        f"<h1>{escape(title)}</h1><p>The <code>type</code> of OneMap's error answers under "
        "/api and /tiles (RFC 9457 problem details). Its status is the one under /api; "
        "/ogc answers 400 for 422, /open311 400 for 422 and 403 for 401.</p>"
        "<table><tr><th>type</th><th>status</th><th>title</th><th>meaning</th></tr>"
        f"{''.join(rows)}</table></html>"
    )


@router.get("")
async def problems() -> HTMLResponse:
    return _page("OneMap problem types", [_row(u, c) for u, c in _kinds().items()])


@router.get("/{slug}")
async def problem(slug: str) -> HTMLResponse:
    uri = f"/problems/{slug}"
    cls = _kinds().get(uri)
    if cls is None:
        raise NotFound(f"no problem type {slug[:40]!r}: /problems lists them")
    return _page(title_of(cls), [_row(uri, cls)])
