"""An Open311 GeoReport v2 front (http://wiki.open311.org/GeoReport_v2) for hotline systems
and existing Open311 clients: services, requests (GET and POST) and one request.

The seven stages map onto Open311's open/closed, with the stage in status_notes. POST takes
the api_key the specification asks for (an intake key, or a token whose role may file cases)
in the form's api_key field or the X-API-Key header, checked before the other fields are
parsed; the GET views follow the roles of the rest of the API (X-API-Key or a bearer token).
A key in the query string is refused everywhere: servers log query strings. Errors are
Open311's list of {code, description} (api/errors.py).
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any
from urllib.parse import parse_qsl, unquote_plus

from fastapi import APIRouter, Depends, Header, Request
from fastapi.responses import JSONResponse
from sqlalchemy.engine import Connection

from api.auth import TokenDep, actor_for
from api.deps import EngineDep, in_tx
from api.limits import read_body
from gis.access.roles import FILERS
from gis.cases import intake, read
from gis.cases.intake import NewCase
from gis.cases.lifecycle import OPEN
from gis.cases.read import CaseFilter
from gis.errors import BadParameter, Forbidden, InvalidInput, NotAuthenticated, NotFound
from gis.registry.codes import is_digits
from gis.registry.vocab import CASE_STATUSES
from gis.store.settings import get_settings

KEY_HEADER = "X-API-Key"
FORM = "application/x-www-form-urlencoded"


async def no_key_in_query(request: Request) -> None:
    """A key in the query string is refused: web servers and proxies log query strings."""
    if any(k.lower() == "api_key" for k in request.query_params):
        raise BadParameter(
            "api_key",
            f"a key may not travel in the query string (servers log it): send it in the "
            f"{KEY_HEADER} header, or as the api_key field of a form-encoded POST body; "
            "and ask an admin for a new key, this one has been exposed",
        )


router = APIRouter(
    prefix="/open311/v2",
    tags=["Open311 GeoReport v2"],
    dependencies=[Depends(no_key_in_query)],
)
KeyDep = Annotated[
    str | None,
    Header(alias=KEY_HEADER, description="an api_key (or send a bearer token)"),
]


def _service_request(case: dict[str, Any]) -> dict[str, Any]:
    stage = case["status"]
    return {
        "service_request_id": str(case["id"]),
        "status": "open" if stage in OPEN else "closed",
        "status_notes": f"{CASE_STATUSES[stage]} ({stage})",
        "service_name": case["category_label"],
        "service_code": case["category"],
        "description": case["description"] or case["title"],
        "agency_responsible": case["grid"]["name"] if case["grid"] else None,
        "service_notice": None,
        "requested_datetime": case["reported_at"],
        "updated_datetime": case["updated_at"],
        "expected_datetime": case["close_by"],
        "address": case["address"],
        "address_id": None,
        "zipcode": None,
        "lat": case["lat"],
        "long": case["lon"],
        "media_url": None,
    }


@router.get("/services.json", summary="The case categories as Open311 services")
async def services(engine: EngineDep) -> Any:
    rows = await in_tx(engine, read.categories)
    return [
        {
            "service_code": r["code"],
            "service_name": r["label"],
            "description": f"{r['major_label']} / {r['label']}: respond within "
            f"{r['respond_hours']} h, close within {r['close_hours']} h",
            "metadata": False,
            "type": "realtime",
            "keywords": r["code"].replace("_", ","),
            "group": r["major_label"],
        }
        for r in rows
    ]


def _float(form: Any, name: str) -> float:
    raw = form.get(name)
    if raw is None or str(raw).strip() == "":
        raise InvalidInput(f"{name} is required: give lat and long, or address_string alone")
    try:
        return float(raw)
    except ValueError:
        raise InvalidInput(f"{name}={str(raw)[:30]!r} is not a number") from None


def _form_key(raw: bytes) -> str | None:
    """api_key from a form-encoded body, read on its own before the other fields are parsed."""
    for part in raw.split(b"&"):
        name, _, value = part.partition(b"=")
        if unquote_plus(name.decode("latin-1")) == "api_key":
            return unquote_plus(value.decode("utf-8", errors="replace")) or None
    return None


def _fields(raw: bytes, media: str) -> dict[str, Any]:
    """The body's fields: a JSON object or a form (GeoReport v2); parsed once the key is good."""
    if media == "application/json":
        try:
            form = json.loads(raw)
        except ValueError:
            raise InvalidInput("the body is not valid JSON") from None
        if not isinstance(form, dict):
            raise InvalidInput("the body must be a JSON object of GeoReport v2 fields")
        return form
    try:
        return dict(reversed(parse_qsl(raw.decode("utf-8"), keep_blank_values=True)))
    except UnicodeDecodeError:
        raise InvalidInput("the form is not UTF-8: send it as UTF-8") from None


@router.post(
    "/requests.json",
    summary="File a service request (form fields of GeoReport v2); the key in the api_key field "
    f"or the {KEY_HEADER} header",
)
async def create_request(request: Request, engine: EngineDep) -> Any:
    media = request.headers.get("content-type", FORM).split(";")[0].strip().lower()
    if media not in (FORM, "application/json"):
        raise InvalidInput(f"send the request as {FORM} (GeoReport v2) or application/json")
    # The key first: from the header, else from the body read within the anonymous limit (the
    # api_key field alone); the other fields are parsed only for a key that may file.
    most = get_settings().public_max_body
    api_key, raw = request.headers.get(KEY_HEADER), None
    if not api_key:
        raw = await read_body(request, most)
        api_key = _form_key(raw) if media == FORM else _fields(raw, media).get("api_key")
    if not api_key:
        raise NotAuthenticated("api_key is required to file a request (ask an admin for one)")
    actor = await actor_for(engine, str(api_key))
    if actor.role not in FILERS:
        raise Forbidden(f"a {actor.role} key may not file requests: ask an admin for an intake key")
    form = _fields(raw if raw is not None else await read_body(request, most), media)
    name = " ".join(
        str(form.get(k)).strip() for k in ("last_name", "first_name") if form.get(k)
    ).strip()
    description = str(form.get("description") or "").strip()
    service = str(form.get("service_code") or "").strip()
    if not service:
        raise InvalidInput("service_code is required (GET services.json lists them)")
    address = str(form.get("address_string")).strip() if form.get("address_string") else None
    by_address = address and not any(str(form.get(k) or "").strip() for k in ("long", "lat"))
    new = NewCase(
        category=service,
        title=(description[:60] or service) if description else service,
        x=None if by_address else _float(form, "long"),  # GeoReport v2: lat/long or address
        y=None if by_address else _float(form, "lat"),
        crs=str(form.get("crs")) if form.get("crs") else None,
        description=description or None,
        reporter_name=name or None,
        reporter_phone=str(form.get("phone")).strip() if form.get("phone") else None,
        address=address,
    )
    case = await in_tx(engine, lambda c: intake.create_case(c, new, actor, source="open311"))
    notice = (
        f"filed to grid {case['grid']['code']}; respond by {case['respond_by']}"
        if case["grid"]
        else "filed without a location: the address could not be placed with confidence; "
        "a dispatcher will place it"
    )
    return JSONResponse(
        [{"service_request_id": str(case["id"]), "service_notice": notice, "account_id": None}],
        status_code=201,
    )


def _when(raw: str | None, name: str) -> datetime | None:
    if raw is None:
        return None
    try:
        value = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInput(f"{name}={raw[:40]!r} is not a W3C date-time") from None
    if value.tzinfo is None:
        raise InvalidInput(f"{name}={raw[:40]!r} needs a time zone (Z or +08:00)")
    return value


@router.get("/requests.json", summary="Service requests you may see (GeoReport v2 filters)")
async def list_requests(
    engine: EngineDep,
    token: TokenDep,
    api_key: KeyDep = None,
    service_request_id: str | None = None,
    service_code: str | None = None,
    start_date: str | None = None,
    end_date: str | None = None,
    status: str | None = None,
) -> Any:
    actor = await actor_for(engine, api_key or token)
    if status not in (None, "open", "closed"):
        raise InvalidInput(f"status={status[:20]!r}: use open or closed")
    if service_request_id:
        ids = []
        for part in service_request_id.split(",")[:100]:
            if not is_digits(part.strip(), 18):
                raise InvalidInput(f"service_request_id {part[:20]!r} is not a request id")
            ids.append(int(part))

        def visible(conn: Connection) -> list[dict[str, Any]]:
            found = []
            for i in ids:
                try:
                    found.append(read.get_case(conn, i, actor))
                except NotFound:
                    continue
            return found

        return [_service_request(c) for c in await in_tx(engine, visible)]
    f = CaseFilter(
        category=service_code,
        open=None if status is None else status == "open",
        reported_after=_when(start_date, "start_date"),
        reported_before=_when(end_date, "end_date"),
        limit=1000,
    )
    cases, _ = await in_tx(engine, lambda c: read.list_cases(c, f, actor))
    return [_service_request(c) for c in cases]


@router.get("/requests/{request_id}.json", summary="One service request")
async def get_request(
    request_id: str, engine: EngineDep, token: TokenDep, api_key: KeyDep = None
) -> Any:
    actor = await actor_for(engine, api_key or token)
    if not is_digits(request_id, 18):
        raise NotFound(f"no request {request_id[:20]!r}")
    case = await in_tx(engine, lambda c: read.get_case(c, int(request_id), actor))
    return [_service_request(case)]
