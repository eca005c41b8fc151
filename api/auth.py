"""Who is calling: a bearer token (Authorization: Bearer TOKEN), else the session cookie the
console signs in with (POST /api/v1/session), becomes an Actor; neither is the public. Tokens
are looked up by their SHA-256 (gis/access/users.py) and never logged."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.engine import Engine

from api.deps import EngineDep
from gis.access.roles import PUBLIC, Actor
from gis.access.users import authenticate
from gis.errors import NotAuthenticated

# Declares the bearer scheme in the OpenAPI document (so /docs has an Authorize button);
# auto_error=False lets the public through without a token.
SCHEME = HTTPBearer(
    scheme_name="token",
    description="A OneMap token (`onemap users add --name NAME --role ROLE` prints one); "
    "without one you are the public.",
    auto_error=False,
)


async def bearer(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(SCHEME)],
) -> str | None:
    """The bearer token, None without an Authorization header; a malformed header is a 401."""
    if credentials is None:
        if "authorization" in request.headers:  # HTTPBearer says None to "Basic ..." too
            raise NotAuthenticated("send the token as Authorization: Bearer TOKEN")
        return None
    return credentials.credentials.strip()


TokenDep = Annotated[str | None, Depends(bearer)]

SESSION_COOKIE = "onemap_session"
"""The console's session cookie: the token itself, HttpOnly and SameSite=Strict."""


def session_token(request: Request) -> str | None:
    """The session cookie's token, None without one."""
    return request.cookies.get(SESSION_COOKIE) or None


async def actor_for(engine: Engine, token: str | None) -> Actor:
    """The actor holding `token`; the public for None."""
    if token is None:
        return PUBLIC

    def lookup() -> Actor:
        with engine.connect() as conn:
            return authenticate(conn, token)

    return await run_in_threadpool(lookup)


async def current_actor(request: Request, engine: EngineDep, token: TokenDep) -> Actor:
    """The bearer token's actor, else the session cookie's, else the public."""
    if token is not None:
        return await actor_for(engine, token)
    cookie = session_token(request)
    if cookie is None:
        return PUBLIC
    try:
        return await actor_for(engine, cookie)
    except NotAuthenticated as exc:
        raise NotAuthenticated(
            f"your session has ended ({exc}): sign in again (POST /api/v1/session)"
        ) from None


ActorDep = Annotated[Actor, Depends(current_actor)]
