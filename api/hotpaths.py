"""The hottest GET endpoints answered in plain ASGI, in front of FastAPI.

GET /api/v1/locate is what planners and dispatchers call all day. Through FastAPI's
routing, request object, dependency solving and response classes it served about 5,500
req/s on 2 cores; the answer itself takes ~40 µs. This layer answers it from
the same function the FastAPI route uses, so the route stays the documented one and the
answers are identical: a domain error is rendered by api/errors.py, as FastAPI's handler
would; everything else, and any request this layer cannot answer cleanly (another exception,
a HEAD, a method other than GET, a signed-in caller), goes to FastAPI unchanged.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from urllib.parse import parse_qsl

from starlette.types import ASGIApp, Receive, Scope, Send

from api import errors
from api.auth import SESSION_COOKIE
from api.routes.geocode import geocode_answer
from api.routes.locate import locate_answer
from gis.errors import OneMapError

Answer = Callable[[Mapping[str, str]], Awaitable[bytes]]


# /livez stays in FastAPI on purpose: it is the trivial endpoint that bench/http_locate.py
# compares locate with, i.e. what any other route of this server costs.
HOT: dict[str, Answer] = {"/api/v1/locate": locate_answer, "/api/v1/geocode": geocode_answer}
_HEADERS = [(b"content-type", b"application/json")]


def _signed_in(scope: Scope) -> bool:
    """Whether the request carries a token (a bearer or the session cookie): its answer
    depends on who asks, so FastAPI's route (with the access policy) gives it."""
    for name, value in scope["headers"]:
        if name == b"authorization" or (name == b"cookie" and SESSION_COOKIE.encode() in value):
            return True
    return False


class HotPaths:
    """ASGI middleware: answer HOT paths directly, pass everything else on."""

    def __init__(self, app: ASGIApp, hot: Mapping[str, Answer] | None = None) -> None:
        self.app = app
        self.hot = dict(HOT if hot is None else hot)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        answer = self.hot.get(scope.get("path", "")) if scope["type"] == "http" else None
        if answer is None or scope["method"] != "GET" or _signed_in(scope):
            await self.app(scope, receive, send)
            return
        query = parse_qsl(scope["query_string"].decode("latin-1"), keep_blank_values=True)
        status, headers = 200, _HEADERS
        try:
            body = await answer(dict(query))
        except OneMapError as exc:
            status, named, body = errors.encode(errors.of_domain(exc), scope["path"])
            headers = [(k.lower().encode(), v.encode("latin-1")) for k, v in named.items()]
        except Exception:  # noqa: BLE001 - FastAPI's handlers turn it into the right 5xx/4xx
            await self.app(scope, receive, send)
            return
        headers = [*headers, (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})
