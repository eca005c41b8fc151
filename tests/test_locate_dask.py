"""Bulk locate on Dask: an in-process LocalCluster (2 workers, threads) locates points partitioned
along the Hilbert curve with the plan scattered once; every clear-cut answer equals the oracle's
(tests.helpers.PlanOracle: shapely's covers on the grids and units read from the database)."""

from __future__ import annotations

from collections.abc import Iterator

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
from gis.owners.bulk import PointColumns
from gis.owners.bulk_dask import locate_dask
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
