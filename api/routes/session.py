"""The console's sign-in: a token checked once and kept in an HttpOnly, SameSite=Strict cookie
(never in the page's storage); who the caller is; sign-out."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field

from api.auth import SESSION_COOKIE, ActorDep, actor_for
from api.deps import EngineDep
from gis.access.roles import Actor

router = APIRouter(prefix="/api/v1/session", tags=["session"])


class SignIn(BaseModel):
    token: str = Field(..., description="a OneMap token (om_...)", max_length=200)


def _who(actor: Actor) -> dict[str, Any]:
    return {"name": actor.name, "role": actor.role, "grid_code": actor.grid_code}


def _set_cookie(response: Response, request: Request, value: str, max_age: int | None) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        value,
        max_age=max_age,
        path="/",
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )


@router.post("", summary="Sign in: check a token and keep it in a session cookie")
async def sign_in(body: SignIn, request: Request, engine: EngineDep) -> JSONResponse:
    token = body.token.strip()
    actor = await actor_for(engine, token)  # an empty token is a 401, never the public
    response = JSONResponse(_who(actor), headers={"Cache-Control": "no-store"})
    _set_cookie(response, request, token, None)
    return response


@router.get("", summary="Who is calling (the public without a session)")
async def who(actor: ActorDep) -> JSONResponse:
    return JSONResponse(_who(actor), headers={"Cache-Control": "private, no-store"})


@router.delete("", status_code=204, summary="Sign out: clear the session cookie")
async def sign_out(request: Request) -> Response:
    response = Response(status_code=204)
    _set_cookie(response, request, "", 0)
    return response
