"""`import onemap`: the local store and a remote server give the same rows and fields for the
same role; locate in GCJ-02 and BD-09 agrees with shapely over the grids table; figures and
files (Excel with Chinese headers, GeoParquet)."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import openpyxl
import pandas as pd
import pytest
import shapely
import sqlalchemy as sa
from sqlalchemy.engine import Engine

import onemap
from gis.crs import china
from gis.errors import BadParameter, NotAuthenticated, UnknownLayer
from tests.helpers import CHINA_VECTORS, ServerProcess, url_of

BBOX = (119.0, 25.4, 119.1, 25.5)


def _same(local: gpd.GeoDataFrame, remote: gpd.GeoDataFrame) -> None:
    assert list(local.columns) == list(remote.columns)
    assert local.crs == remote.crs == "EPSG:4326"
    pd.testing.assert_frame_equal(
        pd.DataFrame(local.drop(columns="geometry")), pd.DataFrame(remote.drop(columns="geometry"))
    )
    assert local.geometry.geom_equals_exact(remote.geometry, 1e-6).all()  # GeoJSON: 7 decimals


@pytest.mark.parametrize("role", ["analyst", "grid_worker"])
def test_local_and_remote_give_the_same_rows(
    demo_ro: Engine, demo_server: ServerProcess, tokens: dict[str, str], role: str
) -> None:
    local = onemap.connect(url_of(demo_ro), token=tokens[role])
    remote = onemap.connect(demo_server.base, token=tokens[role])
    assert local.actor.role == remote.actor.role == role
    remote.page_size = 700  # type: ignore[attr-defined]  # several pages
    with demo_ro.connect() as conn:
        scope = "TRUE" if role == "analyst" else "g.code = :g"
        want = conn.execute(
            sa.text(
                f"SELECT count(*) FROM cases c JOIN grids g ON g.id = c.grid_id WHERE {scope}"  # noqa: S608
            ),
            {"g": tokens["worker_grid"]},
        ).scalar_one()
    for name, kw in (
        ("cases", {}),
        ("cases", {"where": {"status": "dispatched"}, "bbox": BBOX}),
        ("stations", {}),
        ("grids", {"where": {"village_code": tokens["worker_grid"][:12]}}),
    ):
        a, b = local.read_layer(name, **kw), remote.read_layer(name, **kw)
        _same(a, b)
        if name == "cases" and not kw:
            assert len(a) == want > 0
            assert a["id"].is_monotonic_increasing
            if role == "analyst":  # masked personal fields, as the policy says
                assert a["reporter_name"].str.endswith("*").all()
            else:
                assert set(a["grid_code"]) == {tokens["worker_grid"]}
        if name == "cases" and kw:
            inside = a.geometry.within(shapely.box(*BBOX)) | a.geometry.touches(shapely.box(*BBOX))
            assert inside.all() and (a["status"] == "dispatched").all()
        if name == "stations" and role == "grid_worker":
            assert "contact_name" not in a.columns  # other grids' contacts are hidden


def test_the_plan_in_force_at_a_date(demo_ro: Engine) -> None:
    om = onemap.connect(url_of(demo_ro))
    with demo_ro.connect() as conn:
        first = conn.execute(sa.text("SELECT min(valid_from) FROM grids")).scalar_one()
        current = conn.execute(
            sa.text("SELECT count(*) FROM grids WHERE valid_to IS NULL")
        ).scalar_one()
    now = om.read_layer("grids", at=pd.Timestamp.now(tz="UTC").to_pydatetime())
    assert len(now) == current == len(om.read_layer("grids"))
    assert len(om.read_layer("grids", at="2000-01-01")) == 0 and first.year > 2000
    with pytest.raises(BadParameter, match="plan generations"):
        om.read_layer("cases", at="2026-01-01")


def _points_inside(engine: Engine, n: int) -> tuple[gpd.GeoDataFrame, list[str]]:
    """n random points, each inside exactly one current grid (shapely's answer)."""
    with engine.connect() as conn:
        grids = gpd.read_postgis(
            "SELECT code, geom FROM grids WHERE valid_to IS NULL", conn, geom_col="geom"
        )
    rng = np.random.default_rng(13)
    minx, miny, maxx, maxy = grids.total_bounds
    tree = shapely.STRtree(grids.geometry.values)
    xs, ys, owners = [], [], []
    while len(xs) < n:
        x, y = rng.uniform(minx, maxx), rng.uniform(miny, maxy)
        hits = tree.query(shapely.Point(x, y), predicate="within")  # the interior
        if len(hits) == 1:
            xs.append(x)
            ys.append(y)
            owners.append(grids["code"].iloc[int(hits[0])])
    return gpd.GeoDataFrame({"n": range(n)}, geometry=gpd.points_from_xy(xs, ys), crs=4326), owners


def test_locate_gcj02_and_bd09_agree_with_shapely(
    demo_ro: Engine, demo_server: ServerProcess, tokens: dict[str, str]
) -> None:
    wgs, owners = _points_inside(demo_ro, 300)
    gx, gy = china.wgs84_to_gcj02(wgs.geometry.x.to_numpy(), wgs.geometry.y.to_numpy())
    bx, by = china.wgs84_to_bd09(wgs.geometry.x.to_numpy(), wgs.geometry.y.to_numpy())
    gcj = gpd.GeoDataFrame({"n": wgs["n"]}, geometry=gpd.points_from_xy(gx, gy))  # no CRS
    bd = gpd.GeoDataFrame({"n": wgs["n"]}, geometry=gpd.points_from_xy(bx, by))
    local = onemap.connect(url_of(demo_ro))
    remote = onemap.connect(demo_server.base, token=tokens["analyst"])
    a = local.locate(wgs)
    assert list(a["grid_code"]) == owners and (a["locate_status"] == "inside").all()
    assert (a["unit_code"].str[:15] == a["grid_code"]).all()
    assert (a["village_code"] == a["grid_code"].str[:12]).all()
    assert a["district_name"].notna().all() and a["town_code"].str.endswith("000").all()
    for frame, crs in ((gcj, "GCJ02"), (bd, "BD-09")):
        for om in (local, remote):
            got = om.locate(frame, crs=crs)
            pd.testing.assert_frame_equal(
                pd.DataFrame(got.drop(columns="geometry")), pd.DataFrame(a.drop(columns="geometry"))
            )
    # the hand-worked vectors of the test helpers: GCJ-02 and BD-09 of the same WGS84 point
    wx, wy, cx, cy, dx, dy = CHINA_VECTORS[0]
    one = [
        local.locate(gpd.GeoDataFrame(geometry=[shapely.Point(x, y)]), crs=c)["grid_code"][0]
        for x, y, c in ((wx, wy, 4326), (cx, cy, "GCJ02"), (dx, dy, "BD09"))
    ]
    assert one[0] is not None and len(set(one)) == 1
    with pytest.raises(Exception, match="no CRS"):
        local.locate(gcj)
    far = local.locate(gpd.GeoDataFrame(geometry=[shapely.Point(100.0, 30.0)], crs=4326))
    assert far["locate_status"][0] == "error" and "outside" in far["locate_error"][0]


def test_figures_local_and_remote(
    demo_ro: Engine, demo_server: ServerProcess, tokens: dict[str, str], tmp_path: Path
) -> None:
    local = onemap.connect(url_of(demo_ro), token=tokens["analyst"])
    remote = onemap.connect(demo_server.base, token=tokens["analyst"])
    period = {"since": "2026-09-01", "until": "2026-10-01"}
    a, b = local.kpis(by="town", **period), remote.kpis(by="town", **period)
    pd.testing.assert_frame_equal(a, b)
    with demo_ro.connect() as conn:
        want = dict(
            conn.execute(
                sa.text(
                    "SELECT left(g.village_code, 9) || '000', count(*) FROM cases c JOIN grids g "
                    "ON g.id = c.grid_id WHERE c.reported_at >= '2026-09-01T00:00:00+08:00' AND "
                    "c.reported_at < '2026-10-01T00:00:00+08:00' GROUP BY 1"
                )
            ).all()
        )
    assert a.loc[a["reported"] > 0, "reported"].to_dict() == want
    bottom = remote.ranking(by="grid", bottom=5, **period)
    assert list(bottom.index) == list(local.ranking(by="grid", **period).index[::-1][:5])
    xlsx = onemap.to_excel(a, tmp_path / "towns.xlsx")
    sheet = openpyxl.load_workbook(xlsx).active
    assert sheet is not None
    head = next(sheet.iter_rows(values_only=True))
    assert head[:3] == ("代码", "名称", "上报数") and "按期结案率" in head
    csv = onemap.to_csv(a, tmp_path / "towns.csv")
    assert csv.read_text(encoding="utf-8-sig").startswith("代码,名称,上报数")
    stations = local.locate(local.read_layer("stations"))
    pq = onemap.to_geoparquet(stations, tmp_path / "stations.parquet")
    back = gpd.read_parquet(pq)
    assert back.crs == "EPSG:4326" and len(back) == len(stations)
    assert list(back["grid_code"]) == list(stations["grid_code"])
    sheet = openpyxl.load_workbook(onemap.to_excel(stations, tmp_path / "s.xlsx")).active
    assert sheet is not None
    assert {"网格代码", "单元名称", "几何(WKT)"} <= set(next(sheet.iter_rows(values_only=True)))


def test_hotspots_and_coverage_local_and_remote(
    demo_ro: Engine, demo_server: ServerProcess, tokens: dict[str, str]
) -> None:
    local = onemap.connect(url_of(demo_ro), token=tokens["analyst"])
    remote = onemap.connect(demo_server.base, token=tokens["analyst"])
    for method, kw in (
        ("hotspots", {"subject": "waterlogging", "permutations": 99}),
        ("coverage", {"kind": "party_service_center", "radius": 1000}),
    ):
        a, b = getattr(local, method)(**kw), getattr(remote, method)(**kw)
        assert a.crs == b.crs == "EPSG:4326" and a.index.name == "code"
        _same(a, b)
        if method == "hotspots":
            sql = (
                "SELECT g.code, (SELECT count(*) FROM hotspots h WHERE h.grid_id = g.id "
                "AND h.kind = 'waterlogging') FROM grids g WHERE g.valid_to IS NULL"
            )
            expected = {code: int(n) for code, n in a["n"].items()}
        else:
            sql = (
                "SELECT g.code, NOT EXISTS (SELECT 1 FROM stations s WHERE s.kind = "
                "'party_service_center' AND ST_DWithin(ST_Transform(s.geom, 4549), "
                "ST_Transform(g.geom, 4549), 1000)) FROM grids g WHERE g.valid_to IS NULL"
            )
            expected = {code: not w for code, w in a["within"].items()}
            assert set(a["method"]) == {"straight-line"}
        with demo_ro.connect() as conn:
            assert dict(conn.execute(sa.text(sql)).all()) == expected


def test_clear_errors(demo_ro: Engine, demo_server: ServerProcess) -> None:
    local = onemap.connect(url_of(demo_ro))
    with pytest.raises(UnknownLayer, match="unknown layer 'roads'"):
        local.read_layer("roads")
    with pytest.raises(BadParameter, match="'title' is not a queryable"):
        local.read_layer("cases", where={"title": "x"})
    with pytest.raises(NotAuthenticated, match="unknown token"):
        onemap.connect(demo_server.base, token="om_nope")
    public = onemap.connect(demo_server.base)
    with pytest.raises(NotAuthenticated):
        public.read_layer("cases")
    with pytest.raises(BadParameter, match="current plan only"):
        public.read_layer("grids", at="2026-01-01")
    with pytest.raises(BadParameter, match="by"):
        public.kpis(by="planet")
    with pytest.raises(BadParameter, match="radius"):
        local.coverage(radius=400)
    with pytest.raises(BadParameter, match="subject"):
        public.hotspots("fires")
