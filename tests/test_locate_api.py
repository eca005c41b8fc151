"""Locate over real HTTP and on the command line: answers, CRSs, and refusals.

Answers are checked against hand-worked points (the table HAND), against shapely on the grids
and units read straight from the test database (tests.helpers.PlanOracle), and against
hand-worked GCJ-02/BD-09 coordinates (tests.helpers.CHINA_VECTORS); never against the
functions the API calls.
"""

from __future__ import annotations

import csv
from pathlib import Path

import httpx
import numpy as np
import pytest
from pyproj import Transformer
from sqlalchemy.engine import Engine

from tests.conftest import counts
from tests.helpers import (
    CHINA_VECTORS,
    PlanOracle,
    ServerProcess,
    assert_same_owner,
    located,
    run_cli,
)

INSIDE = (119.01, 25.43)

# Worked out by hand on the demo city's boundary files (data/boundaries): the point, its
# status, grid, unit, whether it lies on a shared edge, and its distance from coverage (m).
# A grid code is its village code plus 3 digits; a village's town is its first 9 digits.
HAND = [
    (119.01, 25.43, "inside", "359902103205003", "359902103205003003", False, None),
    # a corner shared by 359901101001001, 359902103203014 and 359902103205002: lowest code
    (119.0150146, 25.4077765, "inside", "359901101001001", "359901101001001001", True, None),
    # a corner shared by 359901101001001, 359901101001003 and 359901101211002
    (119.0204333, 25.4068408, "inside", "359901101001001", "359901101001001002", True, None),
    (119.131, 25.406, "inside", "359903002201003", "359903002201003001", False, None),
    (118.9365, 25.4279, "inside", "359902104206001", "359902104206001004", False, None),
    (119.0372, 25.4263, "inside", "359901101215004", "359901101215004007", False, None),
    # 25 m west of the city's westernmost vertex: given to the grid there
    (118.83991, 25.37615, "snapped", "359902102204001", "359902102204001002", False, 24.77),
    # between the mainland and the island: outside, 3.2 km from the nearest grid
    (119.2, 25.26, "outside", "359903002003004", None, False, 3194.87),
]
OWNER = {(h[0], h[1]): h for h in HAND}


@pytest.fixture(scope="module")
def oracle(demo_ro: Engine) -> PlanOracle:
    return PlanOracle(demo_ro)


def _check_hand(body: dict, lon: float, lat: float) -> None:
    _, _, status, grid, unit, boundary, distance = OWNER[(lon, lat)]
    assert body["status"] == status and body["on_boundary"] is boundary, body
    if status == "outside":
        assert body["nearest_grid"]["code"] == grid and body["grid"] is None
    else:
        assert body["grid"]["code"] == grid and body["unit"]["code"] == unit, body
        assert body["village"]["code"] == grid[:12]
        assert body["town"]["code"] == grid[:9] + "000"
        assert body["district"]["code"] == grid[:6] + "000000"
    if distance is None:
        assert body["distance_m"] is None
    else:
        assert abs(body["distance_m"] - distance) < 0.005 * distance


@pytest.mark.parametrize(("lon", "lat"), [h[:2] for h in HAND], ids=[str(h[:2]) for h in HAND])
def test_get_locate_hand_worked(demo_server: ServerProcess, lon: float, lat: float) -> None:
    r = httpx.get(demo_server.base + "/api/v1/locate", params={"lon": lon, "lat": lat})
    assert r.status_code == (404 if OWNER[(lon, lat)][2] == "outside" else 200), r.text
    _check_hand(located(r), lon, lat)
    assert "leader" not in r.text and "100-0000" not in r.text


def _projected(epsg: int) -> tuple[float, float]:
    x, y = Transformer.from_crs(4326, epsg, always_xy=True).transform(*INSIDE)
    return float(x), float(y)


# INSIDE given in another CRS: GCJ-02 and BD-09 from the hand-worked vectors, the
# Gauss-Krüger zones from PROJ (pyproj) directly.
IN_OTHER_CRS = {
    "GCJ02": {"lon": CHINA_VECTORS[0][2], "lat": CHINA_VECTORS[0][3]},
    "gcj-02": {"lon": CHINA_VECTORS[0][2], "lat": CHINA_VECTORS[0][3]},
    "BD09": {"lon": CHINA_VECTORS[0][4], "lat": CHINA_VECTORS[0][5]},
    "EPSG:4490": {"lon": INSIDE[0], "lat": INSIDE[1]},
    "EPSG:4549": dict(zip(("x", "y"), _projected(4549), strict=True)),
    "EPSG:4527": dict(zip(("x", "y"), _projected(4527), strict=True)),
}


@pytest.mark.parametrize("crs", list(IN_OTHER_CRS))
def test_get_locate_in_other_crs(demo_server: ServerProcess, crs: str) -> None:
    r = httpx.get(demo_server.base + "/api/v1/locate", params={"crs": crs, **IN_OTHER_CRS[crs]})
    assert r.status_code == 200, r.text
    body = r.json()
    assert abs(body["lon"] - INSIDE[0]) < 1e-7 and abs(body["lat"] - INSIDE[1]) < 1e-7, body
    _check_hand({**body, "lon": INSIDE[0], "lat": INSIDE[1]}, *INSIDE)
    assert body["crs"] == crs.upper()


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


def _random_points(oracle: PlanOracle, seed: int, n: int) -> np.ndarray:
    """n points: four in five over the city's extent and a little beyond, one in five within
    80 m of the edge of coverage (so that some are snapped)."""
    rng = np.random.default_rng(seed)
    m = n - n // 5
    anywhere = np.column_stack([rng.uniform(118.83, 119.31, m), rng.uniform(25.2, 25.59, m)])
    return np.vstack([anywhere, np.array(oracle.near_coverage_edge(n - m, seed))])


def test_post_locate_pairs_and_geojson(demo_server: ServerProcess, oracle: PlanOracle) -> None:
    pts = _random_points(oracle, 5, 500)
    pts[7] = [25.43, 119.01]  # swapped: an error for that point only
    r = httpx.post(demo_server.base + "/api/v1/locate", json={"points": pts.tolist()}, timeout=30)
    assert r.status_code == 200
    results = r.json()["results"]
    assert len(results) == 500 and results[7]["status"] == "error"
    assert "swapped" in results[7]["error"]
    seen = set()
    for i, res in enumerate(results):
        want = oracle.answer(*pts[i]) if i != 7 else None
        if want is None or want["margin_m"] < 1:  # too close to call (tolerance or a tie)
            continue
        assert_same_owner(res, want)
        seen.add(want["status"])
    assert seen == {"inside", "snapped", "outside"}
    # The same as GeoJSON in GCJ-02, from the hand-worked coordinates.
    fc = {
        "type": "FeatureCollection",
        "crs": "GCJ02",
        "features": [
            {"type": "Feature", "geometry": {"type": "Point", "coordinates": [v[2], v[3]]}}
            for v in CHINA_VECTORS
        ],
    }
    r2 = httpx.post(demo_server.base + "/api/v1/locate", json=fc)
    assert r2.status_code == 200
    for res, v in zip(r2.json()["results"], CHINA_VECTORS, strict=True):
        assert abs(res["lon"] - v[0]) < 1e-7 and abs(res["lat"] - v[1]) < 1e-7
        assert_same_owner({**res, "lon": v[0], "lat": v[1]}, oracle.answer(v[0], v[1]))


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


def _write_csv(path: Path, rows: list[tuple[float, float]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["编号", "经度", "纬度"])
        w.writerows([[i, repr(x), repr(y)] for i, (x, y) in enumerate(rows)])
    return path


def _locate_csv(engine: Engine, path: Path, crs: str) -> list[dict[str, str]]:
    out = path.with_suffix(".out.csv")
    res = run_cli("locate", "--csv", str(path), "--out", str(out), "--crs", crs, engine=engine)
    assert res.returncode == 0, res.stderr
    with out.open(encoding="utf-8") as f:
        return list(csv.DictReader(f))


def test_csv_owners_agree_with_shapely(demo_ro: Engine, oracle: PlanOracle, tmp_path: Path) -> None:
    pts = _random_points(oracle, 11, 2000)
    before = counts(demo_ro)
    rows = _locate_csv(demo_ro, _write_csv(tmp_path / "wgs.csv", pts.tolist()), "EPSG:4326")
    assert len(rows) == 2000
    checked = 0
    for row, (lon, lat) in zip(rows, pts.tolist(), strict=True):
        want = oracle.answer(lon, lat)
        if want["margin_m"] < 1:  # too close to call (tolerance or a tie)
            continue
        assert row["locate_status"] == want["status"], (lon, lat, row)
        assert row["grid_code"] == (want["grid"] or {}).get("code", ""), (lon, lat, row)
        assert row["unit_code"] == (want["unit"] or {}).get("code", ""), (lon, lat, row)
        assert row["nearest_grid_code"] == want.get("nearest_grid", {}).get("code", "")
        checked += 1
    assert checked > 1950
    # GCJ-02 and BD-09 files of the hand-worked coordinates: the owners of the WGS 84 points.
    for crs, i in (("GCJ02", 2), ("BD09", 4)):
        path = _write_csv(tmp_path / f"{crs}.csv", [(v[i], v[i + 1]) for v in CHINA_VECTORS])
        for row, v in zip(_locate_csv(demo_ro, path, crs), CHINA_VECTORS, strict=True):
            want = oracle.answer(v[0], v[1])
            assert (row["locate_status"], row["unit_code"]) == ("inside", want["unit"]["code"])
    assert counts(demo_ro) == before


def test_cli_single_locate(demo_ro: Engine) -> None:
    res = run_cli("locate", str(INSIDE[0]), str(INSIDE[1]), engine=demo_ro)
    assert res.returncode == 0 and '"status": "inside"' in res.stdout
    res = run_cli("locate", "25.43", "119.01", engine=demo_ro)
    assert res.returncode == 2 and "swapped" in res.stderr
    res = run_cli("locate", "119.01", "25.43", "--crs", "mars", engine=demo_ro)
    assert res.returncode == 2 and "unknown CRS" in res.stderr


def test_get_locate_agrees_with_shapely(demo_server: ServerProcess, oracle: PlanOracle) -> None:
    """Every answer of GET /locate (the cached fast path for points inside units, and the
    rest) is shapely's, field by field."""
    seen = set()
    with httpx.Client() as client:
        for lon, lat in _random_points(oracle, 21, 300).tolist():
            want = oracle.answer(lon, lat)
            if want["margin_m"] < 1:  # too close to call (tolerance or a tie)
                continue
            r = client.get(demo_server.base + "/api/v1/locate", params={"lon": lon, "lat": lat})
            assert r.status_code == (404 if want["status"] == "outside" else 200), r.text
            assert_same_owner(located(r), want)
            assert r.json()["crs"] == "EPSG:4326"
            seen.add(want["status"])
    assert seen == {"inside", "snapped", "outside"}


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
