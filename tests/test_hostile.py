"""Hostile requests on every front, against one real server: each answers below 500 (a 4xx
naming the value where the input is bad), changes nothing in the database (counts and digests
of cases, case_history and users, by SQL) and leaves no personal value and no traceback in the
server's log. A case with a known reporter is planted first; many requests carry that
reporter's name and phone, so a log that echoed a failed statement's values would show them."""

from __future__ import annotations

import json
import socket
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import pytest
import sqlalchemy as sa

from tests.test_cases import INSIDE, Env, env  # noqa: F401 - the module's fixture

NAME, PHONE = "毒药测试员", "136-5555-0199"  # planted: must never reach the log
LOG_MARKS = ("Traceback", "Exception in ASGI application", NAME, PHONE, "13655550199")
SWAPPED = {"lon": INSIDE[1], "lat": INSIDE[0]}


def body(**over: Any) -> dict[str, Any]:
    """A new case carrying the planted reporter, with `over` changed."""
    return {
        "category": "waterlogging",
        "title": "积水",
        "location": {"lon": INSIDE[0], "lat": INSIDE[1]},
        "reporter": {"name": NAME, "phone": PHONE},
        **over,
    }


def raw_json(text: str) -> dict[str, Any]:
    """A body sent as written (NaN, Infinity, deep nesting: what json.dumps will not write)."""
    return {"content": text.encode(), "headers": {"Content-Type": "application/json"}}


@dataclass
class H:
    what: str
    method: str
    path: str  # "{id}": the planted case
    status: int | tuple[int, ...]
    names: str | None = None  # the body names this (the parameter or the value)
    role: str = "dispatcher"
    json: Any = None
    content: bytes | None = None
    headers: dict[str, Any] = field(default_factory=dict)
    raw: bytes | None = None  # sent byte for byte on a socket (headers httpx would refuse)


FEATURE = {"type": "Feature", "geometry": {"type": "Point", "coordinates": list(INSIDE)}}
OPEN311 = {"api_key": "{token}", "service_code": "waterlogging", "first_name": NAME, "phone": PHONE}

HOSTILE: list[H] = [
    # --- the case list: filters, sort, q, paging ----------------------------------------
    H("status NUL", "GET", "/api/v1/cases?status=%00", 422, "status"),
    H("status unknown", "GET", "/api/v1/cases?status=lost,%27--", 422, "lost"),
    H("category control", "GET", "/api/v1/cases?category=a%1Bb", 422, "category"),
    H("sort injection", "GET", "/api/v1/cases?sort=id%3BDROP%20TABLE%20cases", 422, "sort"),
    H("sort superscript", "GET", "/api/v1/cases?sort=%C2%B2", 422, "sort"),
    H("limit superscript", "GET", "/api/v1/cases?limit=%C2%B2", 422, "limit"),
    H("limit exponent", "GET", "/api/v1/cases?limit=1e3", 422, "limit"),
    H("limit zero", "GET", "/api/v1/cases?limit=0", 422, "limit"),
    H("offset negative", "GET", "/api/v1/cases?offset=-1", 422, "offset"),
    H("offset past the bound", "GET", "/api/v1/cases?offset=10000001", 422, "offset"),
    H("q SQL", "GET", "/api/v1/cases?q=%27%20OR%201%3D1%20--", 200),
    H("q bidi and zero-width", "GET", "/api/v1/cases?q=%E2%80%AEabc%E2%80%8B", 200),
    H("q invalid UTF-8", "GET", "/api/v1/cases?q=%ED%A0%80%FF", 200),
    H("q too long", "GET", "/api/v1/cases?q=" + "a" * 101, 422, "q"),
    H("q the planted phone", "GET", "/api/v1/cases?q=" + quote(PHONE), 200, role="analyst"),
    H("grid the planted phone", "GET", "/api/v1/cases?grid=" + quote(PHONE), 200),
    H("grid too long", "GET", "/api/v1/cases?grid=" + "1" * 16, 422, "grid"),
    H("village superscript", "GET", "/api/v1/cases?village=%C2%B2%C2%B2", 422, "village"),
    H("bbox NaN", "GET", "/api/v1/cases?bbox=NaN,NaN,NaN,NaN", 422, "bbox"),
    H("bbox inverted", "GET", "/api/v1/cases?bbox=119.1,25.5,119.0,25.4", 422, "bbox"),
    H("date garbage", "GET", "/api/v1/cases?reported_after=9999999-01-01", 422, "reported_after"),
    H("overdue not a boolean", "GET", "/api/v1/cases?overdue=maybe", 422, "overdue"),
    H("export format", "GET", "/api/v1/cases?f=xlsx", 422, "f"),
    H("stats level traversal", "GET", "/api/v1/cases/stats?level=../../etc", 422, "level"),
    H("stats since garbage", "GET", "/api/v1/cases/stats?since=yesterday", 422, "since"),
    # --- one case: ids, If-Match, actions ---------------------------------------------
    H("id superscript", "GET", "/api/v1/cases/%C2%B2", 422, "case_id"),
    H("id past bigint", "GET", "/api/v1/cases/99999999999999999999999", 404, "99999999999"),
    H("id negative", "GET", "/api/v1/cases/-1", 404, "-1"),
    H("id hex", "GET", "/api/v1/cases/0x10", 422, "case_id"),
    H("nearby past bigint", "GET", "/api/v1/cases/99999999999999999999/nearby", 404),
    H("history of no case", "GET", "/api/v1/cases/987654321/history", 404, "987654321"),
    H(
        "If-Match superscript",
        "POST",
        "/api/v1/cases/{id}/actions",
        412,
        json={"action": "register"},
        headers={"If-Match": '"²"'.encode()},
    ),
    H(
        "If-Match weak",
        "POST",
        "/api/v1/cases/{id}/actions",
        412,
        "W/",
        json={"action": "register"},
        headers={"If-Match": 'W/"1"'},
    ),
    H(
        "If-Match garbage",
        "POST",
        "/api/v1/cases/{id}/actions",
        428,
        "If-Match",
        json={"action": "register"},
        headers={"If-Match": "garbage, 1"},
    ),
    H(
        "If-Match huge",
        "POST",
        "/api/v1/cases/{id}/actions",
        412,
        json={"action": "register"},
        headers={"If-Match": '"' + "9" * 5000 + '"'},
    ),
    H("If-Match missing", "POST", "/api/v1/cases/{id}/actions", 428, json={"action": "register"}),
    H(
        "action unknown",
        "POST",
        "/api/v1/cases/{id}/actions",
        409,
        "nuke",
        json={"action": "nuke"},
        headers={"If-Match": "*"},
    ),
    H(
        "note NUL",
        "POST",
        "/api/v1/cases/{id}/actions",
        422,
        "U+0000",
        json={"action": "register", "note": "a\u0000b"},
        headers={"If-Match": "*"},
    ),
    H(
        "note lone surrogate",
        "POST",
        "/api/v1/cases/{id}/actions",
        422,
        "U+D800",
        content=b'{"action": "register", "note": "\\ud800"}',
        headers={"Content-Type": "application/json", "If-Match": "*"},
    ),
    # --- a new case: bodies -----------------------------------------------------------
    H("title NUL", "POST", "/api/v1/cases", 422, "U+0000", json=body(title="积\u0000水")),
    H("title escape", "POST", "/api/v1/cases", 422, "U+001B", json=body(title="\u001b[31m")),
    H("title bidi override", "POST", "/api/v1/cases", 422, "U+202E", json=body(title="\u202eexe")),
    H("title zero-width only", "POST", "/api/v1/cases", 422, "title", json=body(title="\u200b ")),
    H(
        "title lone surrogate",
        "POST",
        "/api/v1/cases",
        422,
        "U+D800",
        **raw_json(json.dumps(body(title="a")).replace('"a"', '"a\\ud800"')),
    ),
    H(
        "title of a megabyte",
        "POST",
        "/api/v1/cases",
        (413, 422),
        json=body(title="x" * 1_000_000),
    ),
    H("title a number", "POST", "/api/v1/cases", 422, "title", json=body(title=12345)),
    H("title a list", "POST", "/api/v1/cases", 422, "title", json=body(title=["a"])),
    H("category unknown", "POST", "/api/v1/cases", 422, "nuke", json=body(category="nuke")),
    H("category NUL", "POST", "/api/v1/cases", 422, "category", json=body(category="water\0")),
    H(
        "phone SQL",
        "POST",
        "/api/v1/cases",
        422,
        "reporter_phone",
        json=body(reporter={"name": NAME, "phone": "1'; DROP TABLE users; --"}),
    ),
    H(
        "phone NUL",
        "POST",
        "/api/v1/cases",
        422,
        "U+0000",
        json=body(reporter={"name": NAME, "phone": PHONE + "\u0000"}),
    ),
    H("location swapped", "POST", "/api/v1/cases", 422, "swapped", json=body(location=SWAPPED)),
    H(
        "location out of range",
        "POST",
        "/api/v1/cases",
        422,
        "location",
        json=body(location={"lon": 1e308, "lat": -1e308}),
    ),
    H(
        "location a string",
        "POST",
        "/api/v1/cases",
        422,
        "location.lon",
        json=body(location={"lon": "东经119", "lat": 25.43}),
    ),
    H(
        "location both kinds",
        "POST",
        "/api/v1/cases",
        422,
        "lon and lat",
        json=body(location={"lon": 119.01, "lat": 25.43, "x": 1.0, "y": 2.0}),
    ),
    H(
        "location NaN",
        "POST",
        "/api/v1/cases",
        422,
        "finite",
        **raw_json(json.dumps(body()).replace(f'"lon": {INSIDE[0]}', '"lon": NaN')),
    ),
    H(
        "location Infinity",
        "POST",
        "/api/v1/cases",
        422,
        "finite",
        **raw_json(json.dumps(body()).replace(f'"lat": {INSIDE[1]}', '"lat": -Infinity')),
    ),
    H(
        "crs unknown",
        "POST",
        "/api/v1/cases",
        422,
        "EPSG:3857",
        json=body(location={"lon": 119.01, "lat": 25.43, "crs": "EPSG:3857"}),
    ),
    H(
        "JSON nested 100,000 deep",
        "POST",
        "/api/v1/cases",
        (400, 422),
        **raw_json('{"category": ' + "[" * 100_000 + "]" * 100_000 + "}"),
    ),
    H("JSON an array", "POST", "/api/v1/cases", 422, "body", **raw_json("[1, 2, 3]")),
    H("JSON broken", "POST", "/api/v1/cases", 422, "body", **raw_json('{"title": ')),
    H(
        "form body for JSON",
        "POST",
        "/api/v1/cases",
        422,
        "body",
        content=b"category=waterlogging&title=x",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    ),
    H(
        "JSON sent as XML",
        "POST",
        "/api/v1/cases",
        422,
        "body",
        content=json.dumps(body()).encode(),
        headers={"Content-Type": "application/xml"},
    ),
    H("no token", "POST", "/api/v1/cases", 403, "public", role="public", json=body()),
    H("analyst files", "POST", "/api/v1/cases", 403, "analyst", role="analyst", json=body()),
    # --- locate -----------------------------------------------------------------------
    H("lon a word", "GET", "/api/v1/locate?lon=abc&lat=25.43", 422, "lon"),
    H("lon superscript", "GET", "/api/v1/locate?lon=%C2%B2&lat=25.43", 422, "lon"),
    H("lon NaN", "GET", "/api/v1/locate?lon=nan&lat=nan", 422, "lon"),
    H("lon overflows", "GET", "/api/v1/locate?lon=1e309&lat=25.43", 422, "lon"),
    H("lat missing", "GET", "/api/v1/locate?lon=119.01", 422, "lat"),
    H("lon/lat swapped", "GET", "/api/v1/locate?lon=25.43&lat=119.01", 422, "swapped"),
    H("tolerance NaN", "GET", "/api/v1/locate?lon=119.01&lat=25.43&tolerance_m=nan", 422),
    H("crs GCJ flag SQL", "GET", "/api/v1/locate?lon=119&lat=25&crs=GCJ02%27--", 422, "crs"),
    H(
        "crs projected with lon",
        "GET",
        "/api/v1/locate?lon=119&lat=25&crs=EPSG:4527",
        422,
        "projected",
    ),
    H(
        "batch string coordinates",
        "POST",
        "/api/v1/locate",
        422,
        "feature 0",
        json={
            "type": "FeatureCollection",
            "features": [{**FEATURE, "geometry": {"type": "Point", "coordinates": ["a", "b"]}}],
        },
    ),
    H(
        "batch crs of the wrong shape",
        "POST",
        "/api/v1/locate",
        422,
        "crs",
        json={"type": "FeatureCollection", "crs": {"properties": "x"}, "features": [FEATURE]},
    ),
    H("batch pairs of words", "POST", "/api/v1/locate", 422, json={"points": [["a", "b"]]}),
    H("batch a single number", "POST", "/api/v1/locate", 422, json={"points": [[119.01]]}),
    H("batch points a string", "POST", "/api/v1/locate", 422, json={"points": "119,25"}),
    H(
        "batch too large, anonymous",
        "POST",
        "/api/v1/locate",
        413,
        "10,001 points",
        role="public",
        json={"points": [list(INSIDE)] * 10_001},
    ),
    H(
        "batch too large, signed in",
        "POST",
        "/api/v1/locate",
        (413, 422),
        "100,000",
        json={"points": [list(INSIDE)] * 100_001},
    ),
    # --- OGC API Features ---------------------------------------------------------------
    H("bbox three numbers", "GET", "/ogc/collections/grids/items?bbox=1,2,3", 400, "bbox"),
    H("bbox overflows", "GET", "/ogc/collections/grids/items?bbox=1e999,1,2,3", 400, "bbox"),
    H("bbox inverted (OGC)", "GET", "/ogc/collections/grids/items?bbox=120,26,119,25", 400, "bbox"),
    H("datetime garbage", "GET", "/ogc/collections/cases/items?datetime=2026-13-45", 400),
    H("datetime open both ends", "GET", "/ogc/collections/cases/items?datetime=../..", 400),
    H("limit negative (OGC)", "GET", "/ogc/collections/grids/items?limit=-5", 400, "limit"),
    H("offset a word (OGC)", "GET", "/ogc/collections/grids/items?offset=abc", 400, "offset"),
    H("limit twice", "GET", "/ogc/collections/grids/items?limit=1&limit=2", 400, "limit"),
    H("unknown queryable", "GET", "/ogc/collections/grids/items?foo=bar", 400, "foo"),
    H(
        "filter on a personal field",
        "GET",
        "/ogc/collections/cases/items?reporter_phone=" + quote(PHONE),
        400,
        "reporter_phone",
        role="analyst",
    ),
    H("f=xml", "GET", "/ogc/collections/grids/items?f=xml", 400, "xml"),
    H("name SQL", "GET", "/ogc/collections/grids/items?name=x%27%20OR%20%271%27=%271", 200),
    H("unknown collection", "GET", "/ogc/collections/..%2F..%2Fetc/items", 404),
    H("feature id SQL", "GET", "/ogc/collections/cases/items/1%20OR%201=1", 404),
    # --- tiles --------------------------------------------------------------------------
    H("zoom out of range", "GET", "/tiles/grids/99/0/0.mvt", 404, "zoom"),
    H("zoom negative", "GET", "/tiles/grids/-1/0/0.mvt", 404),
    H("x past the zoom", "GET", "/tiles/grids/14/99999/0.geojson", 404),
    H("x huge", "GET", "/tiles/grids/14/" + "9" * 30 + "/0.mvt", 422, "x"),
    H("zoom superscript", "GET", "/tiles/grids/%C2%B2/0/0.mvt", 422, "z"),
    H("zoom Arabic-Indic", "GET", "/tiles/grids/%D9%A3/0/0.mvt", 422, "z"),
    H("zoom with underscore", "GET", "/tiles/grids/1_0/0/0.mvt", 422, "z"),
    H("unknown tile layer", "GET", "/tiles/users/1/0/0.mvt", 404, "grids"),
    # --- Open311 ------------------------------------------------------------------------
    H("request id a word", "GET", "/open311/v2/requests/abc.json", 404),
    H("request ids mixed", "GET", "/open311/v2/requests.json?service_request_id=1,x", 400),
    H("jurisdiction traversal", "GET", "/open311/v2/requests.json?jurisdiction_id=../../etc", 200),
    H("service_code SQL", "GET", "/open311/v2/requests.json?service_code=%27%20OR%201=1--", 200),
    H("start_date garbage", "GET", "/open311/v2/requests.json?start_date=soon", 400, "start_date"),
    H("status unknown (311)", "GET", "/open311/v2/requests.json?status=maybe", 400, "status"),
    H(
        "file with a bad key",
        "POST",
        "/open311/v2/requests.json",
        403,
        content=f"api_key=nope&lat=25.43&long=119.01&phone={quote(PHONE)}".encode(),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    ),
    H(
        "file with a surrogate key",
        "POST",
        "/open311/v2/requests.json",
        403,
        **raw_json('{"api_key": "\\ud800", "service_code": "noise"}'),
    ),
    H(
        "file with lat a word",
        "POST",
        "/open311/v2/requests.json",
        400,
        "lat",
        json={**OPEN311, "lat": "north", "long": "119.01"},
    ),
    H(
        "file with an unknown service",
        "POST",
        "/open311/v2/requests.json",
        400,
        "nuke",
        json={**OPEN311, "service_code": "nuke", "lat": "25.43", "long": "119.01"},
    ),
    H(
        "file with a broken multipart body",
        "POST",
        "/open311/v2/requests.json",
        (400, 403),
        content=b'--x\r\nContent-Disposition: form-data; name="api_key\r\n\r\n',
        headers={"Content-Type": "multipart/form-data; boundary=x"},
    ),
    # --- headers ------------------------------------------------------------------------
    H("Authorization garbage", "GET", "/api/v1/cases", 401, headers={"Authorization": "garbage"}),
    H("Authorization Basic", "GET", "/api/v1/cases", 401, headers={"Authorization": "Basic eDp5"}),
    H(
        "bearer the planted phone",
        "GET",
        "/api/v1/cases",
        401,
        headers={"Authorization": "Bearer " + PHONE},
    ),
    H(
        "bearer of 5,000 characters",
        "GET",
        "/api/v1/cases",
        401,
        headers={"Authorization": "Bearer " + "x" * 5000},
    ),
    H(
        "bearer with a control character",
        "GET",
        "/api/v1/cases",
        400,
        raw=b"GET /api/v1/cases HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer om_\x01x\r\n"
        b"Connection: close\r\n\r\n",
    ),
    H(
        "bearer of Latin-1 bytes",
        "GET",
        "/api/v1/cases",
        401,
        raw=b"GET /api/v1/cases HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer \xff\xfe\r\n"
        b"Connection: close\r\n\r\n",
    ),
    H(
        "cookie garbage",
        "GET",
        "/api/v1/cases",
        401,
        "session",
        role="public",
        headers={"Cookie": "onemap_session=garbage;;;==; x"},
    ),
    H(
        "cookie the planted phone",
        "GET",
        "/api/v1/cases",
        401,
        role="public",
        headers={"Cookie": "onemap_session=" + PHONE},
    ),
    H(
        "session token SQL",
        "POST",
        "/api/v1/session",
        401,
        role="public",
        json={"token": "' OR 1=1 --"},
    ),
    H("session token the phone", "POST", "/api/v1/session", 401, json={"token": PHONE}),
    H("Accept XML", "GET", "/ogc/collections", 200, headers={"Accept": "application/xml"}),
    H("Accept malformed", "GET", "/api/v1/cases?limit=1", 200, headers={"Accept": ';q=x,"'}),
    # --- paths --------------------------------------------------------------------------
    H("vendor traversal", "GET", "/vendor/leaflet/%2e%2e/%2e%2e/%2e%2e/etc/passwd", 404),
    H("console traversal", "GET", "/console/..%2f..%2fpyproject.toml", 404),
    H(
        "raw traversal",
        "GET",
        "/vendor",
        404,
        raw=b"GET /vendor/leaflet/../../../../etc/passwd HTTP/1.1\r\nHost: t\r\n"
        b"Connection: close\r\n\r\n",
    ),
    H("boundaries traversal", "GET", "/api/v1/boundaries/..%2f..%2fetc%2fpasswd.geojson", 404),
    H("path NUL", "GET", "/vendor/leaflet/%00", 422, "path"),
    H("search SQL", "GET", "/api/v1/search?q=%27%20UNION%20SELECT%20*%20FROM%20users--", 200),
    H("search limit superscript", "GET", "/api/v1/search?q=x&limit=%C2%B2", 422, "limit"),
]


def _snapshot(env: Env) -> dict[str, Any]:  # noqa: F811
    """Counts and digests of the tables a request could change, by SQL."""
    with env.engine.connect() as conn:
        return {
            table: conn.execute(
                sa.text(
                    f"SELECT count(*), md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) "  # noqa: S608
                    f"FROM {table} t"
                )
            ).one()
            for table in ("cases", "case_history", "users")
        }


@pytest.fixture(scope="module")
def planted(env: Env) -> int:  # noqa: F811
    """A case whose reporter is NAME, PHONE."""
    return int(env.new_case(reporter={"name": NAME, "phone": PHONE})["id"])


def _send(env: Env, h: H, case_id: int) -> tuple[int, str]:  # noqa: F811
    if h.raw is not None:
        with socket.create_connection(("127.0.0.1", env.server.port), timeout=30) as s:
            s.sendall(h.raw)
            data = b""
            while chunk := s.recv(65536):
                data += chunk
        head, _, rest = data.partition(b"\r\n\r\n")
        return int(head.split()[1]), rest.decode("utf-8", "replace")
    headers = {**env.h(h.role), **h.headers}
    content = h.content
    if h.json is not None:  # {token}: the dispatcher's token (an Open311 api_key)
        content = json.dumps(h.json).replace("{token}", env.tokens["dispatcher"]).encode()
        headers.setdefault("Content-Type", "application/json")
    r = env.http.request(
        h.method,
        env.url(h.path.replace("{id}", str(case_id))),
        content=content,
        headers=headers,
        timeout=120,
    )
    return r.status_code, r.text


def test_there_are_enough() -> None:
    assert len(HOSTILE) >= 50 and len({h.what for h in HOSTILE}) == len(HOSTILE)


@pytest.mark.parametrize("h", HOSTILE, ids=[h.what for h in HOSTILE])
def test_a_hostile_request_is_answered_plainly(env: Env, planted: int, h: H) -> None:  # noqa: F811
    before, seen = _snapshot(env), len(env.server.logs())
    status, text = _send(env, h, planted)
    want = h.status if isinstance(h.status, tuple) else (h.status,)
    assert status in want, (status, text[:300])
    if h.names is not None:
        assert h.names in text, text[:300]
    assert _snapshot(env) == before
    log = env.server.logs()[seen:]
    assert not [m for m in LOG_MARKS if m in log], log[-2000:]


def test_the_log_holds_nothing_personal(env: Env) -> None:  # noqa: F811
    """After every request above (an error may be logged just after its answer), the whole
    log: no planted value, no traceback; it is the server's log (uvicorn's warning about the
    malformed requests is there)."""
    time.sleep(0.5)
    log = env.server.logs()
    assert "Invalid HTTP request received" in log
    assert not [m for m in LOG_MARKS if m in log], log[-2000:]
