"""Every front answers errors in its own shape (problem details, OGC API exception, GeoReport
v2), with the status and media type its standard asks; expectations written out by hand."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.helpers import ServerProcess

PROBLEM, JSON = "application/problem+json", "application/json"
BAD_AUTH = {"Authorization": "Basic abc"}
SEND_TOKEN = "send the token as Authorization: Bearer TOKEN"

# (name, method, path, headers, status, media type, body, extra headers expected)
CASES: list[tuple[str, str, str, dict[str, str], int, str, Any, dict[str, str]]] = [
    (
        "api: bad parameter value (hot path)",
        "GET",
        "/api/v1/locate?lon=abc&lat=25.43",
        {},
        422,
        PROBLEM,
        {
            "type": "/problems/bad-parameter",
            "title": "Bad parameter",
            "status": 422,
            "detail": "lon: 'abc' is not a valid number",
            "parameter": "lon",
        },
        {},
    ),
    (
        "api: bad query type (FastAPI validation)",
        "GET",
        "/api/v1/cases?limit=abc",
        {},
        422,
        PROBLEM,
        {
            "type": "/problems/bad-parameter",
            "title": "Bad parameter",
            "status": 422,
            "detail": "limit: Input should be a valid integer, unable to parse string as an "
            "integer (got 'abc')",
            "parameter": "limit",
        },
        {},
    ),
    (
        "api: malformed Authorization is a 401, not 403",
        "GET",
        "/api/v1/cases",
        BAD_AUTH,
        401,
        PROBLEM,
        {
            "type": "/problems/not-authenticated",
            "title": "Not authenticated",
            "status": 401,
            "detail": SEND_TOKEN,
        },
        {"www-authenticate": "Bearer"},
    ),
    (
        "api: Bearer without a token",
        "GET",
        "/api/v1/cases/1",
        {"Authorization": "Bearer"},
        401,
        PROBLEM,
        {
            "type": "/problems/not-authenticated",
            "title": "Not authenticated",
            "status": 401,
            "detail": SEND_TOKEN,
        },
        {"www-authenticate": "Bearer"},
    ),
    (
        "tile: not an integer",
        "GET",
        "/tiles/grids/12/1e3/5.mvt",
        {},
        422,
        PROBLEM,
        {
            "type": "/problems/bad-parameter",
            "title": "Bad parameter",
            "status": 422,
            "detail": "x: tile address 12/1e3/5 must be three integers z/x/y",
            "parameter": "x",
        },
        {},
    ),
    (
        "tile: no such tile",
        "GET",
        "/tiles/grids/3/8/1.mvt",
        {},
        404,
        PROBLEM,
        {
            "type": "/problems/tile-out-of-range",
            "title": "Tile out of range",
            "status": 404,
            "detail": "tile 3/8/1 does not exist: at zoom 3, x and y run from 0 to 7",
        },
        {},
    ),
    (
        "tile: bad query type",
        "GET",
        "/tiles/grids/12/3400/1700.geojson?clip=maybe",
        {},
        422,
        PROBLEM,
        {
            "type": "/problems/bad-parameter",
            "title": "Bad parameter",
            "status": 422,
            "detail": "clip: Input should be a valid boolean, unable to interpret input "
            "(got 'maybe')",
            "parameter": "clip",
        },
        {},
    ),
    (
        "unknown route",
        "GET",
        "/api/v2/nothing",
        {},
        404,
        PROBLEM,
        {
            "type": "about:blank",
            "title": "Not Found",
            "status": 404,
            "detail": "nothing at /api/v2/nothing: the endpoints are listed at /docs",
        },
        {},
    ),
    (
        "method not allowed",
        "DELETE",
        "/api/v1/cases/counts",
        {},
        405,
        PROBLEM,
        {
            "type": "about:blank",
            "title": "Method Not Allowed",
            "status": 405,
            "detail": "DELETE is not allowed on /api/v1/cases/counts: use GET",
        },
        {"allow": "GET"},
    ),
    (
        "unknown problem type",
        "GET",
        "/problems/no-such-thing",
        {},
        404,
        PROBLEM,
        {
            "type": "/problems/not-found",
            "title": "Not found",
            "status": 404,
            "detail": "no problem type 'no-such-thing': /problems lists them",
        },
        {},
    ),
    (
        "ogc: bad parameter is a 400",
        "GET",
        "/ogc/collections/grids/items?limit=0",
        {},
        400,
        JSON,
        {
            "code": "InvalidParameterValue",
            "description": "limit: must be at least 1, not 0",
            "parameter": "limit",
        },
        {},
    ),
    (
        "ogc: no such feature",
        "GET",
        "/ogc/collections/grids/items/nope",
        {},
        404,
        JSON,
        {"code": "NotFound", "description": "no feature 'nope' in 'grids'"},
        {},
    ),
    (
        "ogc: malformed Authorization",
        "GET",
        "/ogc/collections/cases/items",
        BAD_AUTH,
        401,
        JSON,
        {"code": "NotAuthenticated", "description": SEND_TOKEN},
        {"www-authenticate": "Bearer"},
    ),
    (
        "ogc: unknown route",
        "GET",
        "/ogc/nothing",
        {},
        404,
        JSON,
        {
            "code": "NotFound",
            "description": "nothing at /ogc/nothing: the endpoints are listed at /docs",
        },
        {},
    ),
    (
        "ogc: method not allowed",
        "POST",
        "/ogc/conformance",
        {},
        405,
        JSON,
        {
            "code": "MethodNotAllowed",
            "description": "POST is not allowed on /ogc/conformance: use GET",
        },
        {"allow": "GET"},
    ),
    (
        "open311: bad filter is a 400",
        "GET",
        "/open311/v2/requests.json?status=maybe",
        {},
        400,
        JSON,
        [{"code": 400, "description": "status='maybe': use open or closed"}],
        {},
    ),
    (
        "open311: bad credentials are a 403",
        "GET",
        "/open311/v2/requests.json",
        BAD_AUTH,
        403,
        JSON,
        [{"code": 403, "description": SEND_TOKEN}],
        {},
    ),
    (
        "open311: missing api_key is a 403",
        "POST",
        "/open311/v2/requests.json",
        {},
        403,
        JSON,
        [
            {
                "code": 403,
                "description": "api_key is required to file a request (ask an admin for one)",
            }
        ],
        {},
    ),
    (
        "open311: unknown route",
        "GET",
        "/open311/v2/nothing.json",
        {},
        404,
        JSON,
        [
            {
                "code": 404,
                "description": "nothing at /open311/v2/nothing.json: the endpoints are listed at /docs",
            }
        ],
        {},
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_error_shape_status_and_media_type(
    demo_server: ServerProcess, case: tuple[Any, ...]
) -> None:
    _, method, path, headers, status, media, body, extra = case
    r = httpx.request(method, demo_server.base + path, headers=headers, timeout=30)
    assert (r.status_code, r.headers["content-type"], r.json()) == (status, media, body), r.text
    for name, value in extra.items():
        assert r.headers[name] == value
    if status != 401:
        assert "www-authenticate" not in r.headers


def test_outside_coverage_keeps_the_nearest_grid(demo_server: ServerProcess) -> None:
    # Between the mainland and the island: inside the city's extent, in no grid.
    r = httpx.get(demo_server.base + "/api/v1/locate", params={"lon": 119.2, "lat": 25.26})
    assert (r.status_code, r.headers["content-type"]) == (404, PROBLEM)
    body = r.json()
    assert set(body) == {
        "type",
        "title",
        "status",
        "detail",
        "lon",
        "lat",
        "crs",
        "nearest_grid",
        "distance_m",
    }
    assert (body["type"], body["title"], body["status"]) == (
        "/problems/outside-coverage",
        "Outside coverage",
        404,
    )
    code = body["nearest_grid"]["code"]
    assert body["detail"] == (
        f"outside coverage: the nearest grid is {code}, {body['distance_m']:,.0f} m away"
    )


def test_problem_types_are_documented_where_they_point(demo_server: ServerProcess) -> None:
    r = httpx.get(demo_server.base + "/problems/stale-version")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert "<td>412</td><td>Stale version</td>" in r.text
    listing = httpx.get(demo_server.base + "/problems").text
    for uri in ("/problems/bad-parameter", "/problems/outside-coverage", "/problems/not-found"):
        assert f'<a href="{uri}">' in listing


def test_the_status_of_every_domain_error() -> None:
    """The class → status table, written out: a new error class must be given its status."""
    from api.errors import status_of
    from gis.errors import OneMapError

    expected = {
        "DatabaseUnavailable": 503,
        "ClusterError": 503,
        "BackupFailed": 503,
        "InvalidCRS": 422,
        "UnknownLayer": 404,
        "InvalidInput": 422,
        "BadParameter": 422,
        "TileOutOfRange": 404,
        "OutsideCoverage": 404,
        "ImportRejected": 422,
        "RowsRejected": 422,
        "NotAuthenticated": 401,
        "Forbidden": 403,
        "NotFound": 404,
        "IllegalTransition": 409,
        "StaleVersion": 412,
        "PreconditionRequired": 428,
        "TooLarge": 413,
        "TooManyRequests": 429,
    }
    found: dict[str, int] = {}
    todo = list(OneMapError.__subclasses__())
    while todo:
        cls = todo.pop()
        todo.extend(cls.__subclasses__())
        found[cls.__name__] = status_of(cls)
    assert found == expected


def test_openapi_declares_the_bearer_scheme_on_the_cases_routes(
    demo_server: ServerProcess,
) -> None:
    doc = httpx.get(demo_server.base + "/openapi.json").json()
    scheme = doc["components"]["securitySchemes"]["token"]
    assert (scheme["type"], scheme["scheme"]) == ("http", "bearer")
    paths = doc["paths"]
    for path, method in (
        ("/api/v1/cases", "get"),
        ("/api/v1/cases", "post"),
        ("/api/v1/cases/{case_id}", "get"),
        ("/api/v1/cases/{case_id}/actions", "post"),
        ("/api/v1/cases/{case_id}/history", "get"),
        ("/api/v1/cases/stream", "get"),
        ("/open311/v2/requests.json", "get"),
        ("/ogc/collections/{layer_id}/items", "get"),
    ):
        assert paths[path][method]["security"] == [{"token": []}], (path, method)
    assert "security" not in paths["/api/v1/cases/counts"]["get"]  # public: no token asked
    # locate is public; a token is optional (a signed-in answer adds the leaders).
    assert paths["/api/v1/locate"]["get"]["security"] == [{"token": []}, {}]
    # Open311 takes its api_key in the X-API-Key header beside the bearer token (not the query).
    params = {p["name"] for p in paths["/open311/v2/requests.json"]["get"]["parameters"]}
    assert "X-API-Key" in params and "api_key" not in params


def test_openapi_describes_the_error_answers_as_they_are(demo_server: ServerProcess) -> None:
    doc = httpx.get(demo_server.base + "/openapi.json").json()
    assert "HTTPValidationError" not in str(doc)
    problem = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
    paths = doc["paths"]
    assert paths["/api/v1/cases"]["get"]["responses"]["422"]["content"] == problem
    assert paths["/api/v1/cases/{case_id}/actions"]["post"]["responses"]["412"]["content"] == (
        problem
    )
    assert paths["/api/v1/locate"]["get"]["responses"]["404"]["content"] == problem
    ogc = paths["/ogc/collections/{layer_id}/items/{feature_id}"]["get"]["responses"]
    assert "422" not in ogc and ogc["400"]["content"] == {
        "application/json": {"schema": {"$ref": "#/components/schemas/OGCException"}}
    }
    georeport = paths["/open311/v2/requests.json"]["get"]["responses"]
    assert "422" not in georeport and georeport["400"]["content"] == {
        "application/json": {"schema": {"$ref": "#/components/schemas/GeoReportErrors"}}
    }


def test_docs_offer_authorize_and_render_every_operation(
    demo_server: ServerProcess, chromium: str
) -> None:
    from tests.test_map_page import chromium_page

    requests: list[str] = []
    errors: list[str] = []
    with chromium_page(chromium, requests, errors) as page:
        page.goto(demo_server.base + "/docs")
        page.wait_for_selector("button.authorize", timeout=30_000)
        page.locator("button.authorize").click()
        page.wait_for_selector("text=token (http, Bearer)", timeout=10_000)
        operations = page.locator(".opblock").count()
    paths = httpx.get(demo_server.base + "/openapi.json").json()["paths"]
    assert operations == sum(len(item) for item in paths.values())
    assert errors == []


def test_a_database_that_does_not_answer_is_a_503_to_retry() -> None:
    """A server whose database is down answers 503 with Retry-After and a problem body on
    every front, and keeps answering what needs no database."""
    from tests.helpers import free_port

    srv = ServerProcess(f"postgresql+psycopg://nobody@127.0.0.1:{free_port()}/none")
    try:
        for path, media in (
            ("/api/v1/cases/counts", "application/problem+json"),
            ("/api/v1/cases/stats", "application/problem+json"),
            ("/ogc/collections/grids/items", "application/json"),
            ("/open311/v2/services.json", "application/json"),
        ):
            r = httpx.get(srv.base + path, timeout=30)
            assert r.status_code == 503, (path, r.text)
            assert r.headers["retry-after"] == "2" and r.headers["content-type"] == media
            assert "try again" in r.text
        assert httpx.get(srv.base + "/livez").status_code == 200
    finally:
        srv.stop()
