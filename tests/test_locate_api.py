"""Locate over real HTTP and on the command line: answers, CRSs, and refusals."""

from __future__ import annotations

import csv
from pathlib import Path

import httpx
import numpy as np
import pytest
from sqlalchemy.engine import Engine

from gis.crs.china import wgs84_to_bd09, wgs84_to_gcj02
from gis.crs.systems import from_storage
from gis.owners.index import OwnerIndex
from tests.conftest import counts
from tests.helpers import ServerProcess, run_cli

INSIDE = (119.01, 25.43)


def test_get_locate_inside(demo_server: ServerProcess) -> None:
    r = httpx.get(demo_server.base + "/api/v1/locate", params={"lon": INSIDE[0], "lat": INSIDE[1]})
    assert r.status_code == 200
    body = r.json()
    assert body["status"] == "inside" and body["unit"]["code"].startswith(body["grid"]["code"])
    assert body["grid"]["code"].startswith(body["village"]["code"])
    assert body["village"]["code"][:9] == body["town"]["code"][:9]
    assert "leader" not in r.text and "100-0000" not in r.text


@pytest.mark.parametrize("crs", ["GCJ02", "gcj-02", "BD09", "EPSG:4490", "EPSG:4549", "EPSG:4527"])
def test_get_locate_in_other_crs(demo_server: ServerProcess, crs: str) -> None:
    base = httpx.get(
        demo_server.base + "/api/v1/locate", params={"lon": INSIDE[0], "lat": INSIDE[1]}
    ).json()
    name = crs.upper().replace("-", "")
    code: int | str = name if name in ("GCJ02", "BD09") else int(name.split(":")[1])
    x, y = from_storage(np.array([INSIDE[0]]), np.array([INSIDE[1]]), code)
    params = {"crs": crs}
    params.update(
        {"x": float(x[0]), "y": float(y[0])}
        if str(code).startswith("45")
        else {"lon": float(x[0]), "lat": float(y[0])}
    )
    r = httpx.get(demo_server.base + "/api/v1/locate", params=params)
    assert r.status_code == 200, r.text
    assert r.json()["unit"] == base["unit"]


BAD = [
    ({"lon": "abc", "lat": 25.43}, "lon", "valid number"),
    ({"lat": 25.43}, "lon", "required"),
    ({"lon": 25.43, "lat": 119.01}, "lon", "swapped"),
    ({"lon": 116.4, "lat": 39.9}, "lon", "outside the city"),
    ({"lon": 119.01, "lat": 25.43, "crs": "EPSG:3857"}, "crs", "not accepted"),
    ({"lon": 119.01, "lat": 25.43, "crs": "mars"}, "crs", "unknown CRS"),
    ({"lon": 119.01, "lat": 25.43, "crs": "EPSG:4549"}, "lon", "x and y"),
    ({"x": 1, "y": 2}, "x", "give lon and lat"),
    ({"lon": "nan", "lat": 25.43}, "lon", "finite"),
    ({"lon": 119.01, "lat": 25.43, "tolerance_m": -1}, "tolerance_m", "greater than"),
    ({"lon": 119.01, "lat": "25.43'; DROP TABLE grids;--"}, "lat", "valid number"),
]


@pytest.mark.parametrize(("params", "param", "words"), BAD, ids=[b[2] for b in BAD])
def test_get_locate_refuses(
    demo_server: ServerProcess, params: dict, param: str, words: str
) -> None:
    r = httpx.get(demo_server.base + "/api/v1/locate", params=params)
    assert r.status_code == 422, r.text
    assert r.headers["content-type"] == "application/problem+json"
    body = r.json()
    assert body["type"] == "/problems/bad-parameter" and body["status"] == 422
    assert body["parameter"] == param
    assert words in body["detail"]


def test_outside_coverage_is_a_404_with_the_nearest_grid(demo_server: ServerProcess) -> None:
    # Between the mainland and the island: inside the city's extent, in no grid.
    r = httpx.get(demo_server.base + "/api/v1/locate", params={"lon": 119.2, "lat": 25.26})
    assert r.status_code == 404
    assert r.headers["content-type"] == "application/problem+json"
    body = r.json()
    assert body["type"] == "/problems/outside-coverage" and body["distance_m"] > 50
    assert (body["lon"], body["lat"], body["crs"]) == (119.2, 25.26, "EPSG:4326")
    assert len(body["nearest_grid"]["code"]) == 15 and "m away" in body["detail"]
    assert body["nearest_grid"]["code"] in body["detail"]


def test_post_locate_pairs_and_geojson(demo_server: ServerProcess, demo_ro: Engine) -> None:
    with demo_ro.connect() as conn:
        index = OwnerIndex(conn)
    rng = np.random.default_rng(5)
    pts = np.column_stack([rng.uniform(118.95, 119.1, 500), rng.uniform(25.3, 25.5, 500)])
    pts[7] = [25.43, 119.01]  # swapped: an error for that point only
    r = httpx.post(demo_server.base + "/api/v1/locate", json={"points": pts.tolist()}, timeout=30)
    assert r.status_code == 200
    results = r.json()["results"]
    assert len(results) == 500 and results[7]["status"] == "error"
    assert "swapped" in results[7]["error"]
    expected = index.owners(pts[:, 0], pts[:, 1])
    for i, res in enumerate(results):
        if i == 7:
            continue
        want = index.grid_rows[expected.grid[i]]["code"] if expected.grid[i] >= 0 else None
        assert (res["grid"] or {}).get("code") == want
    gcj = np.column_stack(wgs84_to_gcj02(pts[:20, 0], pts[:20, 1]))
    fc = {
        "type": "FeatureCollection",
        "crs": "GCJ02",
        "features": [
            {"type": "Feature", "geometry": {"type": "Point", "coordinates": p}, "properties": {}}
            for p in gcj.tolist()
        ],
    }
    r2 = httpx.post(demo_server.base + "/api/v1/locate", json=fc)
    assert r2.status_code == 200
    for a, b in zip(r2.json()["results"], results[:20], strict=True):
        if b["status"] != "error":
            assert a["unit"] == b["unit"]


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({"points": [[1, 2, 3]]}, "give [x, y]"),
        ({"points": "nope"}, "valid list"),
        ({"crs": "mars", "points": [[119.01, 25.43]]}, "unknown CRS"),
        ({"points": [[119.01, 25.43]] * 100_001}, "at most 100,000"),
        (
            {
                "type": "FeatureCollection",
                "features": [
                    {
                        "type": "Feature",
                        "geometry": {"type": "LineString", "coordinates": [[1, 2], [3, 4]]},
                    }
                ],
            },
            "not a Point",
        ),
    ],
)
def test_post_locate_refuses(demo_server: ServerProcess, body: dict, words: str) -> None:
    r = httpx.post(demo_server.base + "/api/v1/locate", json=body, timeout=60)
    assert r.status_code == 422
    assert words in r.text


def test_post_malformed_json(demo_server: ServerProcess) -> None:
    r = httpx.post(
        demo_server.base + "/api/v1/locate",
        content=b"{not json",
        headers={"content-type": "application/json"},
    )
    assert r.status_code == 422 and "json" in r.text.lower()


def test_gcj02_csv_gets_the_same_owners_as_wgs84(demo_ro: Engine, tmp_path: Path) -> None:
    rng = np.random.default_rng(11)
    lon, lat = rng.uniform(118.95, 119.1, 2000), rng.uniform(25.3, 25.5, 2000)
    glon, glat = wgs84_to_gcj02(lon, lat)
    blon, blat = wgs84_to_bd09(lon, lat)
    files = {}
    for name, (x, y) in {"wgs": (lon, lat), "gcj": (glon, glat), "bd": (blon, blat)}.items():
        path = tmp_path / f"{name}.csv"
        with path.open("w", newline="", encoding="utf-8") as f:
            w = csv.writer(f)
            w.writerow(["编号", "经度", "纬度"])
            w.writerows(
                [[i, f"{a:.8f}", f"{b:.8f}"] for i, (a, b) in enumerate(zip(x, y, strict=True))]
            )
        files[name] = path
    before = counts(demo_ro)
    outs = {}
    for name, crs in (("wgs", "EPSG:4326"), ("gcj", "GCJ02"), ("bd", "BD09")):
        out = tmp_path / f"{name}.out.csv"
        res = run_cli(
            "locate", "--csv", str(files[name]), "--out", str(out), "--crs", crs, engine=demo_ro
        )
        assert res.returncode == 0, res.stderr
        assert "2,000 rows" in res.stdout
        with out.open(encoding="utf-8") as f:
            outs[name] = list(csv.DictReader(f))
    assert counts(demo_ro) == before
    same = sum(
        a["unit_code"] == b["unit_code"] == c["unit_code"]
        for a, b, c in zip(outs["wgs"], outs["gcj"], outs["bd"], strict=True)
    )
    assert same == 2000
    assert {r["locate_status"] for r in outs["wgs"]} <= {"inside", "snapped", "outside"}


def test_cli_single_locate(demo_ro: Engine) -> None:
    res = run_cli("locate", str(INSIDE[0]), str(INSIDE[1]), engine=demo_ro)
    assert res.returncode == 0 and '"status": "inside"' in res.stdout
    res = run_cli("locate", "25.43", "119.01", engine=demo_ro)
    assert res.returncode == 2 and "swapped" in res.stderr
    res = run_cli("locate", "119.01", "25.43", "--crs", "mars", engine=demo_ro)
    assert res.returncode == 2 and "unknown CRS" in res.stderr


def test_get_fast_path_matches_the_full_answer(demo_server: ServerProcess, demo_ro: Engine) -> None:
    """The cached-text answer for points inside units equals the general one."""
    with demo_ro.connect() as conn:
        index = OwnerIndex(conn)
    rng = np.random.default_rng(21)
    seen = set()
    with httpx.Client() as client:
        for lon, lat in zip(
            rng.uniform(118.9, 119.2, 300), rng.uniform(25.25, 25.55, 300), strict=True
        ):
            r = client.get(
                demo_server.base + "/api/v1/locate", params={"lon": float(lon), "lat": float(lat)}
            )
            if r.status_code != 200:
                continue
            expected = {**index.location(float(lon), float(lat)).as_dict(), "crs": "EPSG:4326"}
            assert r.json() == expected
            assert r.headers["content-type"].startswith("application/json")
            seen.add(r.json()["status"])
    assert "inside" in seen


def test_hot_path_answers_as_the_fastapi_route(
    demo_server: ServerProcess, demo_ro: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """api/hotpaths.py answers GET /locate in front of FastAPI; its answers (status,
    media type and body) must be the documented route's, served here by an app without HotPaths."""
    import asyncio

    from api.app import create_app
    from gis.store.db import get_engine
    from gis.store.settings import get_settings

    monkeypatch.setenv("ONEMAP_DATABASE_URL", demo_ro.url.render_as_string(hide_password=False))
    get_settings.cache_clear()  # the settings (and so the engine) are read once per process
    get_engine.cache_clear()
    app = create_app(hot_paths=False)
    queries = [
        {"lon": INSIDE[0], "lat": INSIDE[1]},
        {"lon": INSIDE[0], "lat": INSIDE[1], "crs": "gcj02"},
        {"lon": 119.2, "lat": 25.26},  # between mainland and island: 404, nearest grid
        {"lon": "abc", "lat": 25.43},
        {"lon": 25.43, "lat": 119.01},
        {"lon": "", "lat": 25.43},
    ]

    async def through_route() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            return [await client.get("/api/v1/locate", params=q) for q in queries]

    try:
        routed = asyncio.run(through_route())
    finally:
        get_settings.cache_clear()
        get_engine.cache_clear()
    for q, via_route in zip(queries, routed, strict=True):
        hot = httpx.get(demo_server.base + "/api/v1/locate", params=q)
        assert (hot.status_code, hot.headers["content-type"], hot.json()) == (
            via_route.status_code,
            via_route.headers["content-type"],
            via_route.json(),
        ), q
    assert {r.status_code for r in routed} == {200, 404, 422}
    assert routed[0].json()["grid"]["code"]  # the route really read the demo city


def test_locate_before_any_plan_is_loaded(empty_db: Engine) -> None:
    srv = ServerProcess(empty_db.url.render_as_string(hide_password=False))
    try:
        r = httpx.get(srv.base + "/api/v1/locate", params={"lon": INSIDE[0], "lat": INSIDE[1]})
    finally:
        srv.stop()
    assert r.status_code == 404
    assert r.json()["distance_m"] is None and "no grid plan is loaded" in r.json()["detail"]
