"""Refuses a request whose path or query string holds a control character, before any route
or the hot paths read it: such a value could only reach SQL (PostgreSQL refuses a NUL) or a
header. Answered by the one error module, as a 422 (a 400 on /ogc and /open311)."""

from __future__ import annotations

from urllib.parse import parse_qsl

from starlette.types import ASGIApp, Receive, Scope, Send

from api.errors import encode, of_domain
from gis.errors import BadParameter
from gis.registry.codes import CONTROL


class ControlCharacters:
    """ASGI middleware: a 422 naming the parameter for a control character in the request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            problem = _problem(scope)
            if problem is not None:
                status, headers, body = encode(of_domain(problem), scope["path"])
                await send(
                    {
                        "type": "http.response.start",
                        "status": status,
                        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
                    }
                )
                await send({"type": "http.response.body", "body": body})
                return
        await self.app(scope, receive, send)


def _problem(scope: Scope) -> BadParameter | None:
    if CONTROL.search(scope["path"]):
        return BadParameter("path", "the path holds a control character: remove it")
    query = scope.get("query_string", b"").decode("latin-1")
    if "%" not in query and not CONTROL.search(query):
        return None
    for name, value in parse_qsl(query, keep_blank_values=True, encoding="utf-8"):
        bad = CONTROL.search(name)
        if bad:
            return BadParameter("query", "a parameter's name holds a control character")
        bad = CONTROL.search(value)
        if bad:
            return BadParameter(
                name[:40], f"holds a control character (U+{ord(bad.group()):04X}): remove it"
            )
    return None
