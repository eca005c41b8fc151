"""Bulk locate on Dask: an in-process LocalCluster (2 workers, threads) locates points partitioned
along the Hilbert curve with the plan scattered once, into frames and GeoParquet; every clear-cut answer equals the oracle's
(tests.helpers.PlanOracle: shapely's covers on the grids and units read from the database)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import dask.dataframe as dd
import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from distributed import Client, LocalCluster
from sqlalchemy.engine import Engine

import onemap
from gis.crs.systems import parse_crs
from gis.errors import RowsRejected
from gis.owners.bulk import PointColumns
from gis.owners.bulk_dask import _bounds, hilbert, locate_dask
from gis.owners.bulk_geoparquet import locate_files
from gis.owners.cache import owner_index
from tests.helpers import PlanOracle, url_of
from tests.test_locate_api import _random_points


@pytest.fixture(scope="module")
def cluster() -> Iterator[LocalCluster]:
    with LocalCluster(
        n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None
    ) as c:
        yield c


def test_dask_answers_equal_the_oracle(demo_ro: Engine, cluster: LocalCluster) -> None:
    oracle = PlanOracle(demo_ro)
    pts = _random_points(oracle, 31, 3000)
    frame = pd.DataFrame({"id": [f"p{i}" for i in range(len(pts))], "x": pts[:, 0], "y": pts[:, 1]})
    with demo_ro.connect() as conn:
        index = owner_index(conn)
    with Client(cluster) as client:
        points = dd.from_pandas(frame, npartitions=6)
        located = locate_dask(client, points, index, PointColumns("x", "y"), parse_crs(None))
        assert located.npartitions == 6 and located.known_divisions  # Hilbert ranges
        out = located.compute()
        parts = _parts(located)
    # spatial partitions: each holds a compact part of the city, so their boxes overlap little
    boxes = [shapely.box(*gpd.GeoSeries(p.geometry).total_bounds) for p in parts]
    assert sum(b.area for b in boxes) < 2.5 * shapely.union_all(boxes).area
    by_id = out.set_index("id")
    assert sorted(by_id.index) == sorted(frame["id"])
    checked = 0
    for pid, lon, lat in frame.itertuples(index=False):
        want, row = oracle.answer(lon, lat), by_id.loc[pid]
        assert abs(row.geometry.x - lon) < 1e-9 and row["x"] == lon
        if want["margin_m"] < 1:
            continue
        assert row["locate_status"] == want["status"], (lon, lat)
        assert _text(row["grid_code"]) == (want["grid"] or {}).get("code"), (lon, lat)
        assert _text(row["unit_code"]) == (want["unit"] or {}).get("code"), (lon, lat)
        assert _text(row["nearest_grid_code"]) == want.get("nearest_grid", {}).get("code")
        checked += 1
    assert checked > 2900


def test_onemap_connect_with_a_scheduler(demo_ro: Engine, cluster: LocalCluster) -> None:
    oracle = PlanOracle(demo_ro)
    pts = _random_points(oracle, 32, 400)
    frame = gpd.GeoDataFrame(
        {"n": range(len(pts))}, geometry=gpd.points_from_xy(pts[:, 0], pts[:, 1]), crs=4326
    )
    om = onemap.connect(url_of(demo_ro), scheduler=cluster.scheduler_address)
    got = om.locate(frame)
    assert list(got["n"]) == list(range(len(pts)))
    checked = 0
    for (lon, lat), status, unit in zip(pts, got["locate_status"], got["unit_code"], strict=True):
        want = oracle.answer(lon, lat)
        if want["margin_m"] >= 1:
            assert (status, _text(unit)) == (want["status"], (want["unit"] or {}).get("code"))
            checked += 1
    assert checked > 380
    with pytest.raises(Exception, match="scheduler is for a local store"):
        onemap.connect("http://127.0.0.1:9", scheduler="local")


def _parts(located: object) -> list[gpd.GeoDataFrame]:
    return [p.compute() for p in located.partitions]  # type: ignore[attr-defined]


def _text(value: object) -> str | None:
    return None if value is None or (isinstance(value, float) and np.isnan(value)) else str(value)


def test_dask_into_geoparquet_and_a_refused_file(
    demo_ro: Engine, cluster: LocalCluster, tmp_path: Path
) -> None:
    oracle = PlanOracle(demo_ro)
    pts = _random_points(oracle, 33, 1000)
    src = tmp_path / "points.csv"
    pd.DataFrame(
        {"编号": [f"{i:04d}" for i in range(1000)], "lon": pts[:, 0], "lat": pts[:, 1]}
    ).to_csv(src, index=False)
    dst = tmp_path / "owned.parquet"
    address = cluster.scheduler_address
    summary = locate_files(demo_ro, src, dst, parse_crs(None), address)
    assert summary.rows == 1000 and summary.errors == 0
    out = gpd.read_parquet(dst)  # a GeoParquet dataset, one file a partition
    assert out.crs.to_epsg() == 4326 and len(out) == 1000
    assert sorted(out["编号"]) == [f"{i:04d}" for i in range(1000)]
    checked = 0
    for row in out.itertuples():
        lon, lat = row.geometry.x, row.geometry.y
        assert abs(lon - float(row.lon)) < 1e-12 and abs(lat - float(row.lat)) < 1e-12
        want = oracle.answer(lon, lat)
        if want["margin_m"] >= 1:
            assert row.locate_status == want["status"]
            assert _text(row.unit_code) == (want["unit"] or {}).get("code")
            checked += 1
    assert checked > 950
    bad = tmp_path / "bad.csv"
    bad.write_text("id,lon,lat\na,119.01,25.43\nb,25.43,119.01\n")
    with pytest.raises(RowsRejected, match="row 2"):
        locate_files(demo_ro, bad, tmp_path / "bad.parquet", parse_crs(None), address)
    assert not (tmp_path / "bad.parquet").exists()


def test_compact_path_equals_the_oracle(demo_ro: Engine) -> None:
    """A Dask partition's path (points along the Hilbert curve, located from their coordinates
    with no shapely points): more points than FEW_POINTS, every clear-cut answer the oracle's."""
    oracle = PlanOracle(demo_ro)
    pts = _random_points(oracle, 34, 9000)
    with demo_ro.connect() as conn:
        index = owner_index(conn)
    order = np.argsort(hilbert(pts[:, 0], pts[:, 1], _bounds(index)))
    lon, lat = pts[order, 0], pts[order, 1]
    got = index.owners(lon, lat, compact=True)
    checked = 0
    for i in range(len(lon)):
        want = oracle.answer(lon[i], lat[i])
        if want["margin_m"] < 1:
            continue
        assert str(got.status[i]) == want["status"], (lon[i], lat[i])
        unit = index.unit_rows[got.unit[i]]["code"] if got.unit[i] >= 0 else None
        assert unit == (want["unit"] or {}).get("code"), (lon[i], lat[i])
        checked += 1
    assert checked > 8500
