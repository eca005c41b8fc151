"""The one place where errors become HTTP answers, in the shape of the front that was asked.

Route code only raises domain errors (gis/errors.py); FastAPI's own errors (a bad parameter
type, an unknown path, a wrong method) and anything unexpected come through here too. The
front is chosen by the path:

- /ogc: the OGC API exception of OGC API - Features Part 1 (openapi schemas/exception.yaml):
  {"code", "description"} plus "parameter" where one is at fault, as application/json; a bad
  parameter is a 400 (/req/core/query-param-invalid).
- /open311: GeoReport v2's error list [{"code": <status>, "description"}], application/json;
  bad input is a 400 and a missing or invalid api_key a 403, as GeoReport v2 says.
- anything else (/api/v1, /tiles, /map, unknown paths): RFC 9457 problem details,
  application/problem+json: {"type", "title", "status", "detail"} plus the error's facts as
  extension members ("parameter" for a bad parameter; the nearest grid and its distance for
  a point outside coverage).

Problem types are relative URIs, /problems/<error-class-in-kebab-case> (e.g.
/problems/stale-version), resolved against this server, which documents each at that path
(api/routes/problems.py): a type is stable as long as its class keeps its name, and no made-up
host appears in them. Errors HTTP itself describes fully (an unknown path, a wrong method, an
unexpected failure) are "about:blank" with the HTTP status phrase as title (RFC 9457 §4.2.1).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any, Literal

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from starlette.exceptions import HTTPException
from starlette.types import Scope, Send

from gis.errors import (
    BadParameter,
    ClusterError,
    DatabaseUnavailable,
    Forbidden,
    IllegalTransition,
    ImportRejected,
    InvalidCRS,
    InvalidInput,
    NotAuthenticated,
    NotFound,
    OneMapError,
    OutsideCoverage,
    PreconditionRequired,
    RowsRejected,
    StaleVersion,
    TileOutOfRange,
    TooLarge,
    TooManyRequests,
    UnknownLayer,
)
from gis.store.db import UNREACHABLE

DOWN = "the database is not answering; try again in a few seconds"
RETRY_AFTER_S = "2"  # seconds: the service resumes by itself once the database is back

# The HTTP status of each domain error, written once (a subclass not listed takes its base's).
STATUS: dict[type[OneMapError], int] = {
    InvalidInput: 422,  # BadParameter too
    InvalidCRS: 422,
    ImportRejected: 422,
    RowsRejected: 422,  # a bulk locate's file with bad rows (facts: which rows, why)
    NotAuthenticated: 401,
    Forbidden: 403,
    NotFound: 404,
    UnknownLayer: 404,
    TileOutOfRange: 404,
    OutsideCoverage: 404,
    IllegalTransition: 409,
    StaleVersion: 412,
    PreconditionRequired: 428,
    TooLarge: 413,
    TooManyRequests: 429,
    DatabaseUnavailable: 503,
    ClusterError: 503,
}

Front = Literal["problem", "ogc", "open311"]
# Each front's own conventions, as changes of the status above.
FRONT_STATUS: dict[Front, dict[int, int]] = {
    "problem": {},
    "ogc": {422: 400},
    "open311": {422: 400, 401: 403},
}
# OGC API exception codes where OWS Common has one; otherwise the error's name.
OGC_CODE: dict[type[OneMapError], str] = {
    InvalidInput: "InvalidParameterValue",
    InvalidCRS: "InvalidParameterValue",
}
MEDIA: dict[Front, str] = {
    "problem": "application/problem+json",
    "ogc": "application/json",
    "open311": "application/json",
}


@dataclass(frozen=True)
class Problem:
    """One error, before it takes a front's shape."""

    status: int
    type: str  # "/problems/<slug>" or "about:blank"
    title: str
    code: str  # the OGC API exception code
    detail: str
    facts: Mapping[str, Any] = field(default_factory=dict)
    headers: Mapping[str, str] = field(default_factory=dict)


def _words(name: str) -> list[str]:
    return re.findall(r"[A-Z]+(?=[A-Z][a-z]|\b)|[A-Z][a-z]*|[a-z]+", name)


def _lookup(table: Mapping[type[OneMapError], Any], cls: type[OneMapError]) -> Any:
    return next((table[c] for c in cls.__mro__ if c in table), None)


def status_of(cls: type[OneMapError]) -> int:
    """The status of a domain error class (500 for one missing from STATUS: a bug)."""
    status = _lookup(STATUS, cls)
    return 500 if status is None else int(status)


def problem_type(cls: type[OneMapError]) -> str:
    """The relative type URI of a domain error class, e.g. /problems/stale-version."""
    return "/problems/" + "-".join(w.lower() for w in _words(cls.__name__))


def title_of(cls: type[OneMapError]) -> str:
    """A short, fixed summary of a domain error class, e.g. "Stale version"."""
    first, *rest = _words(cls.__name__)
    return " ".join([first, *(w if w.isupper() else w.lower() for w in rest)])


def of_domain(exc: OneMapError) -> Problem:
    cls = type(exc)
    return Problem(
        status=status_of(cls),
        type=problem_type(cls),
        title=title_of(cls),
        code=_lookup(OGC_CODE, cls) or cls.__name__,
        detail=str(exc),
        facts=exc.facts,
    )


def _http(status: int, detail: str, headers: Mapping[str, str] | None = None) -> Problem:
    phrase = HTTPStatus(status).phrase
    return Problem(
        status, "about:blank", phrase, phrase.replace(" ", ""), detail, {}, headers or {}
    )


def of_http(exc: HTTPException, request: Request) -> Problem:
    """Starlette's own errors: an unknown path (404), a wrong method (405)."""
    path, detail = request.url.path[:200], str(exc.detail)
    if exc.status_code == 404 and detail == "Not Found":
        detail = f"nothing at {path}: the endpoints are listed at /docs"
    elif exc.status_code == 405 and detail == "Method Not Allowed":
        allowed = (exc.headers or {}).get("Allow", "")
        detail = f"{request.method} is not allowed on {path}: use {allowed}"
    return _http(exc.status_code, detail, exc.headers)


def of_validation(exc: RequestValidationError) -> Problem:
    """FastAPI's parameter and body checks, as a BadParameter naming each bad value."""
    found: list[tuple[str, str]] = []
    for err in exc.errors():
        loc = [str(p) for p in err.get("loc", ())]
        text = str(err.get("msg", "invalid"))
        ctx_error = (err.get("ctx") or {}).get("error")
        if err.get("type") == "json_invalid":
            param = "body"
            text = f"{text}: {ctx_error}" if isinstance(ctx_error, str) else text
        else:
            param = ".".join(loc[1:]) or (loc[0] if loc else "request")
            value = err.get("input")
            if err.get("type") != "missing" and isinstance(value, str | int | float | bool):
                text += f" (got {str(value)[:40]!r})"
        found.append((param, text))
    if not found:
        found.append(("request", "invalid request"))
    (param, text), rest = found[0], found[1:6]
    more = len(found) - 6
    message = "; ".join([text, *(f"{p}: {t}" for p, t in rest)])
    return of_domain(BadParameter(param, message + (f"; and {more} more" if more > 0 else "")))


PREFIXES: tuple[tuple[str, Front], ...] = (("/ogc", "ogc"), ("/open311", "open311"))


def front_of(path: str) -> Front:
    """Which front answers for `path`."""
    for prefix, front in PREFIXES:
        if path == prefix or path.startswith(prefix + "/"):
            return front
    return "problem"


def _dumps(doc: Any) -> bytes:
    return json.dumps(doc, ensure_ascii=False, allow_nan=False).encode()


def encode(problem: Problem, path: str) -> tuple[int, dict[str, str], bytes]:
    """Status, headers (media type included) and body of `problem` for the front of `path`."""
    front = front_of(path)
    status = FRONT_STATUS[front].get(problem.status, problem.status)
    headers = {**problem.headers, "Content-Type": MEDIA[front]}
    if status == 401:
        headers["WWW-Authenticate"] = "Bearer"
    if status == 503:
        headers.setdefault("Retry-After", RETRY_AFTER_S)
    if "retry_after_s" in problem.facts:  # a rate limit says when its window lets one more in
        headers["Retry-After"] = str(problem.facts["retry_after_s"])
    if front == "open311":
        return status, headers, _dumps([{"code": status, "description": problem.detail}])
    if front == "ogc":
        body: dict[str, Any] = {"code": problem.code, "description": problem.detail}
        if "parameter" in problem.facts:
            body["parameter"] = problem.facts["parameter"]
        return status, headers, _dumps(body)
    doc: dict[str, Any] = {
        "type": problem.type,
        "title": problem.title,
        "status": status,
        "detail": problem.detail,
    }
    doc.update((k, v) for k, v in problem.facts.items() if k not in doc)
    return status, headers, _dumps(doc)


def respond(problem: Problem, request: Request) -> Response:
    status, headers, body = encode(problem, request.url.path)
    return Response(body, status_code=status, headers=headers)


async def send_problem(problem: Problem, scope: Scope, send: Send) -> None:
    """Answer `problem` from ASGI middleware, in front of FastAPI (no Request, no handlers)."""
    status, headers, body = encode(problem, scope["path"])
    raw = [(k.lower().encode(), v.encode("latin-1")) for k, v in headers.items()]
    raw.append((b"content-length", str(len(body)).encode()))
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})


def install(app: FastAPI) -> None:
    """Register the mapping on `app`."""

    async def domain(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, OneMapError)
        return respond(of_domain(exc), request)

    async def http(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        return respond(of_http(exc, request), request)

    async def validation(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        return respond(of_validation(exc), request)

    async def unexpected(request: Request, exc: Exception) -> Response:
        # Starlette logs the exception after this answer; the body says nothing of it.
        detail = "an unexpected error; it is logged on the server, please report it"
        return respond(_http(500, detail), request)

    async def database_down(request: Request, exc: Exception) -> Response:
        # The database refused a connection or went away mid-statement: a 503 the client may
        # retry (Retry-After), never a 500; the statement's values are not in the message.
        return respond(of_domain(DatabaseUnavailable(DOWN)), request)

    for lost in UNREACHABLE:
        app.add_exception_handler(lost, database_down)
    app.add_exception_handler(OneMapError, domain)
    app.add_exception_handler(HTTPException, http)
    app.add_exception_handler(RequestValidationError, validation)
    app.add_exception_handler(Exception, unexpected)
