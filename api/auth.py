"""Who is calling: a bearer token (Authorization: Bearer TOKEN) becomes an Actor; none is
the public. Tokens are looked up by their SHA-256 (gis/access/users.py) and never logged."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from sqlalchemy.engine import Engine

from api.deps import EngineDep
from gis.access.roles import PUBLIC, Actor
from gis.access.users import authenticate
from gis.errors import NotAuthenticated


def bearer(request: Request) -> str | None:
    header = request.headers.get("authorization")
    if header is None:
        return None
    scheme, _, token = header.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise NotAuthenticated("send the token as Authorization: Bearer TOKEN")
    return token.strip()


async def actor_for(engine: Engine, token: str | None) -> Actor:
    if token is None:
        return PUBLIC

    def lookup() -> Actor:
        with engine.connect() as conn:
            return authenticate(conn, token)

    return await run_in_threadpool(lookup)


async def current_actor(request: Request, engine: EngineDep) -> Actor:
    return await actor_for(engine, bearer(request))


ActorDep = Annotated[Actor, Depends(current_actor)]
