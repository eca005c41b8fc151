"""Request limits in front of the routes: the largest request body (lower without a token,
refused before the body is read) and per-client rate limits on the heavy anonymous endpoints
(moving windows of the `limits` library). Each limit is a setting (gis/store/settings.py),
ONEMAP_LIMITS=false turns them all off; refusals (413, 429) are answered by api/errors.py.

RULES is the one place that says which requests are rate-limited. Single locate and tiles are
in none of them. Callers with a token (other than an intake key: roles.LIMITED) are exempt;
anonymous callers are counted by their address.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import parse_qsl

from limits import RateLimitItem, parse
from limits.aio.strategies import MovingWindowRateLimiter
from limits.storage import storage_from_string
from sqlalchemy import exc as sa_exc
from starlette.requests import HTTPConnection, Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api import errors
from api.auth import SESSION_COOKIE, actor_for
from gis.access.roles import LIMITED
from gis.errors import DatabaseUnavailable, NotAuthenticated, OneMapError, TooLarge, TooManyRequests
from gis.store.db import get_engine
from gis.store.settings import Settings, get_settings


def _query(scope: Scope) -> list[tuple[str, str]]:
    return parse_qsl(scope.get("query_string", b"").decode("latin-1"))


def _export(scope: Scope) -> bool:
    return any(k == "f" and v in ("csv", "geojson") for k, v in _query(scope))


def _large_page(scope: Scope) -> bool:
    most = get_settings().large_page
    return any(
        k == "limit" and v.isascii() and v.isdigit() and (len(v) > 9 or int(v) > most)
        for k, v in _query(scope)
    )  # ASCII digits only ('²' passes isdigit), never int() of a thousand digits


@dataclass(frozen=True)
class Rule:
    """A rate-limited kind of request; its rate is the setting rate_<name>."""

    name: str
    what: str  # what the 429 says is counted
    method: str
    path: str  # a regular expression the whole path matches
    applies: Callable[[Scope], bool] = lambda scope: True


RULES = (
    Rule("batch_locate", "batch locates and geocodes", "POST", r"/api/v1/(locate|geocode)"),
    Rule("exports", "case exports", "GET", r"/api/v1/cases", _export),
    # Figures computed per request: statistics, performance figures, hotspots, coverage.
    Rule("statistics", "statistics", "GET", r"/api/v1/(cases/stats|stats/[^/]+|hotspots|coverage)"),
    Rule("large_pages", "large OGC pages", "GET", r"/ogc/collections/[^/]+/items", _large_page),
    Rule("boundaries", "boundary downloads", "GET", r"/api/v1/boundaries/[^/]+\.geojson"),
)
PREFIXES = ("/api/v1/", "/ogc/")  # every rule's path starts so: a tile is never matched


def rates(settings: Settings) -> dict[str, RateLimitItem]:
    """Each rule's rate from the settings (a rule set to "" is off)."""
    out = {}
    for rule in RULES:
        text = getattr(settings, f"rate_{rule.name}").strip()
        if text:
            try:
                out[rule.name] = parse(text)
            except ValueError:
                raise ValueError(
                    f"ONEMAP_RATE_{rule.name.upper()}={text!r} is not a rate: write e.g. "
                    "30/minute, 1000/hour or 5/second, or leave it empty to turn it off"
                ) from None
    return out


def _credential(scope: Scope) -> str | None:
    """The bearer token or the session cookie, if the request carries one."""
    conn = HTTPConnection(scope)
    auth = conn.headers.get("authorization", "")
    if auth[:7].lower() == "bearer ":
        return auth[7:].strip() or None
    return conn.cookies.get(SESSION_COOKIE) or None


async def signed_in(scope: Scope) -> bool:
    """Whether the request carries a valid token of a role above the public's limits. Asked
    only where it matters (a limited route, a body over the anonymous limit)."""
    token = _credential(scope)
    if token is None:
        return False
    try:
        actor = await actor_for(get_engine(), token)
    except NotAuthenticated:
        return False  # counted as anonymous; a route that needs the token answers 401
    except (sa_exc.OperationalError, sa_exc.InterfaceError, sa_exc.TimeoutError):
        raise DatabaseUnavailable(errors.DOWN) from None
    return actor.role not in LIMITED


def too_large(seen: int | None, most: int, signed_most: int, anonymous: bool) -> TooLarge:
    size = f"is {seen:,} bytes" if seen is not None else f"passed {most:,} bytes"
    if anonymous:
        how = (
            f"without a token it may hold at most {most:,} bytes: send a token "
            f"(Authorization: Bearer ...) for up to {signed_most:,}, or use the command line "
            "(onemap locate --csv, onemap import) for a file"
        )
    else:
        how = f"at most {most:,} bytes: split it, or use the command line (onemap import)"
    exc = TooLarge(f"the request body {size}; {how}")
    exc.facts = {"max_bytes": most}
    return exc


async def read_body(request: Request, most: int) -> bytes:
    """The request body, refused (413) as soon as it passes `most` bytes."""
    settings = get_settings()
    chunks, seen = [], 0
    async for chunk in request.stream():
        seen += len(chunk)
        if seen > most:
            raise too_large(None, most, settings.signed_in_max_body, True)
        chunks.append(chunk)
    return b"".join(chunks)


class Limits:
    """ASGI middleware: rate limits first, then the body limit, before any route reads."""

    def __init__(self, app: ASGIApp) -> None:
        settings = get_settings()
        self.app = app
        self.public_max, self.signed_max = settings.public_max_body, settings.signed_in_max_body
        self.rates = rates(settings)
        self.rules = [(r, re.compile(r.path)) for r in RULES if r.name in self.rates]
        self.limiter = MovingWindowRateLimiter(
            storage_from_string("async+" + settings.rate_storage)
        )

    def _rule(self, scope: Scope) -> Rule | None:
        path, method = scope["path"], scope["method"]
        if not path.startswith(PREFIXES):
            return None
        method = "GET" if method == "HEAD" else method
        for rule, pattern in self.rules:
            if rule.method == method and pattern.fullmatch(path) and rule.applies(scope):
                return rule
        return None

    async def _rate(self, rule: Rule, scope: Scope) -> None:
        """TooManyRequests when an anonymous client is over `rule`'s rate."""
        if await signed_in(scope):  # exempt, and not counted against their address
            return
        item = self.rates[rule.name]
        client = scope["client"][0] if scope.get("client") else "unknown"
        if await self.limiter.hit(item, "onemap", rule.name, client):
            return
        stats = await self.limiter.get_window_stats(item, "onemap", rule.name, client)
        wait = max(1, math.ceil(stats.reset_time - time.time()))
        raise TooManyRequests(
            f"more than {item} of {rule.what} from your address without a token: retry in "
            f"{wait} s (Retry-After), or send a token (Authorization: Bearer ...); the limit is "
            f"ONEMAP_RATE_{rule.name.upper()}",
            limit=rule.name,
            rate=str(item),
            retry_after_s=wait,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length, chunked = None, False
        for name, value in scope["headers"]:
            if name == b"content-length" and value.isdigit():
                length = int(value)
            elif name == b"transfer-encoding" and b"chunked" in value.lower():
                chunked = True
        try:
            rule = self._rule(scope)
            if rule is not None:
                await self._rate(rule, scope)
            if length is None and not chunked:  # no body
                await self.app(scope, receive, send)
                return
            most = self.public_max
            if length is not None and length > most:
                if await signed_in(scope):
                    most = self.signed_max
                if length > most:
                    raise too_large(length, most, self.signed_max, most == self.public_max)
        except OneMapError as exc:
            await errors.send_problem(errors.of_domain(exc), scope, send)
            return
        await self._counted(scope, receive, send, most)

    async def _counted(self, scope: Scope, receive: Receive, send: Send, most: int) -> None:
        """Pass the request on, counting its body as it streams in (a chunked body declares no
        length); past `most` bytes the route is cut off and a 413 answers instead."""
        seen, checked, started = 0, most > self.public_max, False
        refused: list[TooLarge] = []

        async def counted() -> Message:
            nonlocal seen, most, checked
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > most and not checked:
                    checked = True
                    if await signed_in(scope):
                        most = self.signed_max
                if seen > most:
                    anonymous = most == self.public_max
                    refused.append(too_large(None, most, self.signed_max, anonymous))
                    raise refused[-1]
            return message

        async def guarded(message: Message) -> None:
            nonlocal started
            if refused:  # the route's answer to a body it did not get: the 413 goes instead
                return
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, guarded)
        except Exception:
            if not refused:
                raise
        if refused and not started:
            await errors.send_problem(errors.of_domain(refused[0]), scope, send)
