"""Bulk locate over real HTTP and on the command line: CSV, GeoParquet and Arrow IPC bodies come
back in their format with every column kept and the owner columns added; columnar JSON; a file
with bad rows is refused whole (which rows, and why); over-limit bodies get the limits' 413.

Owners are checked against tests.helpers.PlanOracle (shapely alone on the grids and units read
from the test database), never against the functions the API calls.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path

import geopandas as gpd
import httpx
import numpy as np
import pyarrow as pa
import pytest
from sqlalchemy.engine import Engine

from tests.conftest import bearer, counts
from tests.helpers import CHINA_VECTORS, PlanOracle, ServerProcess, run_cli
from tests.test_locate_api import _random_points

PUBLIC_MAX, SIGNED_MAX = 200_000, 4_000_000
CSV = {"Content-Type": "text/csv"}


@pytest.fixture(scope="module")
def oracle(demo_ro: Engine) -> PlanOracle:
    return PlanOracle(demo_ro)


@pytest.fixture(scope="module")
def bulk(demo_ro: Engine) -> Iterator[ServerProcess]:
    """A server on the shared demo copy with small body limits and no rate limit."""
    env = {
        "ONEMAP_PUBLIC_MAX_BODY": str(PUBLIC_MAX),
        "ONEMAP_SIGNED_IN_MAX_BODY": str(SIGNED_MAX),
        "ONEMAP_RATE_BATCH_LOCATE": "",
    }
    srv = ServerProcess(demo_ro.url.render_as_string(hide_password=False), env)
    yield srv
    srv.stop()


def _post(srv: ServerProcess, body: bytes, media: str, token: str | None = None, **params: str):
    headers = {"Content-Type": media, **(bearer(token) if token else {})}
    return httpx.post(
        srv.base + "/api/v1/locate", content=body, headers=headers, params=params, timeout=120
    )


def _agree(rows: list[dict], points: list[tuple[float, float]], oracle: PlanOracle) -> int:
    """How many rows were checked against the oracle (clear-cut ones); asserts each."""
    checked = 0
    for row, (lon, lat) in zip(rows, points, strict=True):
        want = oracle.answer(lon, lat)
        if want["margin_m"] < 1:  # too close to call (tolerance or a tie)
            continue
        where = (lon, lat, row)
        assert row["locate_status"] == want["status"], where
        assert (row["grid_code"] or "") == (want["grid"] or {}).get("code", ""), where
        assert (row["unit_code"] or "") == (want["unit"] or {}).get("code", ""), where
        assert (row["district_name"] or "") == (want["district"] or {}).get("name", ""), where
        assert (row["nearest_grid_code"] or "") == want.get("nearest_grid", {}).get("code", "")
        checked += 1
    return checked


def _csv_of(points: list[tuple[float, float]]) -> bytes:
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(["编号", "经度", "纬度", "备注"])
    w.writerows([f"{i:05d}", repr(x), repr(y), f'第{i}号, "甲"'] for i, (x, y) in enumerate(points))
    return out.getvalue().encode()


def test_csv_round_trip(bulk: ServerProcess, oracle: PlanOracle, demo_ro: Engine) -> None:
    pts = [tuple(p) for p in _random_points(oracle, 21, 2000).tolist()]
    before = counts(demo_ro)
    r = _post(bulk, _csv_of(pts), "text/csv")  # anonymous: about 130 KB
    assert r.status_code == 200, r.text[:300]
    assert r.headers["content-type"].startswith("text/csv") and r.headers["x-onemap-rows"] == "2000"
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert len(rows) == 2000
    assert list(rows[0])[:4] == ["编号", "经度", "纬度", "备注"]
    for i, (row, (x, y)) in enumerate(zip(rows, pts, strict=True)):  # input kept as it was
        assert (row["编号"], row["经度"], row["纬度"]) == (f"{i:05d}", repr(x), repr(y))
        assert row["备注"] == f'第{i}号, "甲"'
    assert _agree(rows, pts, oracle) > 1950
    assert {r["locate_status"] for r in rows} == {"inside", "snapped", "outside"}
    # GCJ-02 coordinates of hand-worked points: the owners of their WGS 84 twins.
    gcj = [(v[2], v[3]) for v in CHINA_VECTORS]
    r = _post(bulk, _csv_of(gcj), "text/csv", crs="GCJ02")
    got = list(csv.DictReader(io.StringIO(r.text)))
    for row, v in zip(got, CHINA_VECTORS, strict=True):
        assert row["unit_code"] == oracle.answer(v[0], v[1])["unit"]["code"]
    assert counts(demo_ro) == before


def test_geoparquet_and_arrow_round_trips(
    bulk: ServerProcess, oracle: PlanOracle, tokens: dict[str, str]
) -> None:
    pts = [tuple(p) for p in _random_points(oracle, 22, 1500).tolist()]
    x, y = np.array(pts).T
    frame = gpd.GeoDataFrame(
        {"编号": [f"{i:05d}" for i in range(len(pts))], "n": np.arange(len(pts))},
        geometry=gpd.points_from_xy(x, y),
        crs="EPSG:4326",
    )
    body = io.BytesIO()
    frame.to_parquet(body)
    r = _post(bulk, body.getvalue(), "application/vnd.apache.parquet", tokens["analyst"])
    assert r.status_code == 200, r.text[:300]
    back = gpd.read_parquet(io.BytesIO(r.content))  # GeoParquet: its "geo" metadata kept
    assert back.crs.to_epsg() == 4326 and len(back) == len(pts)
    assert list(back["编号"]) == list(frame["编号"]) and list(back["n"]) == list(frame["n"])
    assert back.geometry.geom_equals(frame.geometry).all()
    rows = back.drop(columns="geometry").astype(object).where(back.notna(), None)
    assert _agree(rows.to_dict("records"), pts, oracle) > 1450
    # An Arrow IPC stream with number columns.
    table = pa.table({"id": np.arange(len(pts)), "lon": x, "lat": y})
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as w:
        w.write_table(table, max_chunksize=400)
    media = "application/vnd.apache.arrow.stream"
    r = _post(bulk, sink.getvalue().to_pybytes(), media, tokens["analyst"])
    assert r.status_code == 200 and r.headers["content-type"] == media
    got = pa.ipc.open_stream(r.content).read_all()
    assert got.column("id").to_pylist() == list(range(len(pts)))
    assert got.column("lon").to_pylist() == x.tolist()
    assert _agree(got.to_pylist(), pts, oracle) > 1450


def test_columnar_json(bulk: ServerProcess, oracle: PlanOracle) -> None:
    pts = [tuple(p) for p in _random_points(oracle, 23, 300).tolist()]
    cols = {"id": list(range(300)), "lon": [p[0] for p in pts], "lat": [p[1] for p in pts]}
    r = httpx.post(bulk.base + "/api/v1/locate", json={"columns": cols}, timeout=60)
    assert r.status_code == 200, r.text[:300]
    doc = r.json()
    assert doc["count"] == 300 and doc["columns"]["id"] == cols["id"]
    out = doc["columns"]
    rows = [{k: v[i] for k, v in out.items()} for i in range(300)]
    assert _agree(rows, pts, oracle) > 280
    assert len(r.content) < 300 * 300  # no key repeated per point (records take ~380 bytes)
    r = httpx.post(
        bulk.base + "/api/v1/locate", json={"columns": {"lon": [1.0, 2.0], "lat": [1.0]}}
    )
    assert r.status_code == 422 and "differ in length" in r.text


BAD_CSV = (
    "id,lon,lat\n"
    "a,119.01,25.43\n"  # row 1: fine
    "b,abc,25.43\n"  # row 2: not a number
    "c,119.02,25.44\n"  # row 3: fine
    "d,119.03\n"  # row 4: too few fields
    "e,25.43,119.01\n"  # row 5: swapped
    "f,119.01,\n"  # row 6: empty latitude
    "g,100.0,30.0\n"  # row 7: far outside the city
)


def test_a_file_with_bad_rows_is_refused_whole(
    bulk: ServerProcess, demo_ro: Engine, tmp_path: Path
) -> None:
    r = _post(bulk, BAD_CSV.encode(), "text/csv")
    assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json"
    doc = r.json()
    assert doc["type"] == "/problems/rows-rejected" and doc["rows"] == 7 and doc["bad_rows"] == 5
    found = {e["row"]: e for e in doc["errors"]}
    assert sorted(found) == [2, 4, 5, 6, 7]
    assert found[2]["value"] == "abc" and "not a number" in found[2]["reason"]
    assert "2 fields where the header has 3" in found[4]["reason"]
    assert "swapped" in found[5]["reason"] and found[6]["reason"] == "empty"
    assert "outside" in found[7]["reason"]
    # bad_rows=mark answers the rows it can split, the bad ones marked; a row that cannot be
    # split into fields is still refused.
    r = _post(bulk, BAD_CSV.encode(), "text/csv", bad_rows="mark")
    assert r.status_code == 422 and [e["row"] for e in r.json()["errors"]] == [4]
    fixed = BAD_CSV.replace("d,119.03\n", "d,119.03,25.42\n")
    r = _post(bulk, fixed.encode(), "text/csv", bad_rows="mark")
    rows = list(csv.DictReader(io.StringIO(r.text)))
    status = [row["locate_status"] for row in rows]
    assert status == ["inside", "error", "inside", "inside", "error", "error", "error"]
    assert "swapped" in rows[4]["locate_error"] and rows[0]["locate_error"] == ""
    r = _post(bulk, fixed.encode(), "text/csv", bad_rows="maybe")
    assert r.status_code == 422 and r.json()["parameter"] == "bad_rows"
    # The command line: the same refusal, and no file written.
    src, out = tmp_path / "bad.csv", tmp_path / "out.csv"
    src.write_text(BAD_CSV, encoding="utf-8")
    res = run_cli("locate", "--csv", str(src), "--out", str(out), engine=demo_ro)
    assert res.returncode == 2 and "row 2: lon='abc': not a number" in res.stderr
    assert not out.exists() and not list(tmp_path.glob("*.part"))


def test_over_limit_bodies_are_413(bulk: ServerProcess, tokens: dict[str, str]) -> None:
    spooled = set(Path("/tmp").glob("onemap-locate-*"))
    rows = [(119.0 + (i % 1000) * 1e-4, 25.42 + (i // 1000) * 1e-4) for i in range(60_000)]
    big = _csv_of(rows)  # about 3 MB
    assert PUBLIC_MAX < len(big) < SIGNED_MAX
    r = _post(bulk, big, "text/csv")
    assert r.status_code == 413 and "Authorization: Bearer" in r.json()["detail"]
    # chunked (no declared length): cut off while it streams in
    r = httpx.post(
        bulk.base + "/api/v1/locate", content=iter([big[:50_000], big[50_000:]]), headers=CSV
    )
    assert r.status_code == 413
    r = _post(bulk, big, "text/csv", tokens["analyst"])  # signed in: within the limit
    assert r.status_code == 200 and r.headers["x-onemap-rows"] == "60000"
    assert r.text.count("\n") == 60_001
    huge = big + big[big.index(b"\n") + 1 :]
    assert len(huge) > SIGNED_MAX
    r = httpx.post(
        bulk.base + "/api/v1/locate",
        content=iter([huge[i : i + (1 << 20)] for i in range(0, len(huge), 1 << 20)]),
        headers={**CSV, **bearer(tokens["analyst"])},
        timeout=60,
    )
    assert r.status_code == 413 and f"at most {SIGNED_MAX:,} bytes" in r.json()["detail"]
    assert set(Path("/tmp").glob("onemap-locate-*")) <= spooled  # no spooled body left


def test_openapi_documents_the_file_bodies(bulk: ServerProcess) -> None:
    doc = httpx.get(bulk.base + "/openapi.json").json()
    post = doc["paths"]["/api/v1/locate"]["post"]
    content = post["requestBody"]["content"]
    assert {"application/json", "text/csv", "application/vnd.apache.parquet"} <= set(content)
    assert "bad_rows" in json.dumps(post["parameters"])
