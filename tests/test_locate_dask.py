"""Bulk locate on Dask: an in-process LocalCluster (2 workers, threads) locates points partitioned
along the Hilbert curve with the plan scattered once, into frames and GeoParquet; every clear-cut answer equals the oracle's
(tests.helpers.PlanOracle: shapely's covers on the grids and units read from the database)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

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
from gis.errors import InvalidInput, RowsRejected
from gis.owners.bulk import PointColumns
from gis.owners.bulk_counts import count_dask
from gis.owners.bulk_dask import _bounds, hilbert, locate_dask
from gis.owners.bulk_geoparquet import locate_files
from gis.owners.cache import owner_index
from tests.helpers import PlanOracle, run_cli, url_of
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


def _clear_cut(oracle: PlanOracle, seed: int, n: int) -> tuple[np.ndarray, list[dict[str, Any]]]:
    """Random points whose owners the oracle answers with a margin of 1 m or more, and those
    answers (points near a tie or the tolerance are left out: a count has no place for them)."""
    pts = _random_points(oracle, seed, n)
    answers = [oracle.answer(lon, lat) for lon, lat in pts]
    keep = [i for i, a in enumerate(answers) if a["margin_m"] >= 1]
    return pts[keep], [answers[i] for i in keep]


@pytest.mark.parametrize("level", ["village", "unit"])
def test_counts_on_dask_equal_the_oracle(
    demo_ro: Engine, cluster: LocalCluster, level: str
) -> None:
    """Counted per village or unit and by a column with gaps, in partitions of more than
    FEW_POINTS (the compact path); snapped points get their grid's nearest unit, points
    outside coverage and a bad row (swapped coordinates) count under the empty code."""
    oracle = PlanOracle(demo_ro)
    pts, answers = _clear_cut(oracle, 35, 9000)
    kinds = [None if i % 7 == 0 else "路灯" if i % 3 else "井盖" for i in range(len(pts))]
    frame = pd.DataFrame({"kind": kinds, "x": pts[:, 0], "y": pts[:, 1]})
    frame.loc[len(frame)] = ["井盖", 25.43, 119.01]  # lat, lon swapped: a bad row
    want = Counter(
        ((a[level] or {}).get("code", ""), (a[level] or {}).get("name", ""), k)
        for a, k in zip([*answers, {level: None}], [*kinds, "井盖"], strict=True)
    )
    assert sum(1 for a in answers if a["status"] == "outside") > 200
    assert sum(1 for a in answers if a["status"] == "snapped") > 200
    with demo_ro.connect() as conn:
        index = owner_index(conn)
    where, crs = PointColumns("x", "y"), parse_crs(None)
    with Client(cluster) as client:
        points = dd.from_pandas(frame, npartitions=1)
        got = count_dask(client, points, index, where, crs, level, ["kind"])
        for by, why in (
            (["year"], "no column 'year' to count by"),
            (["kind", "kind"], "column 'kind' given twice"),
            (["grid_code"], "cannot count by 'grid_code'"),
            (["points"], "cannot count by 'points'"),
        ):
            with pytest.raises(InvalidInput, match=why):
                count_dask(client, points, index, where, crs, level, by)
    assert list(got.columns) == [f"{level}_code", f"{level}_name", "kind", "points"]
    rows = [(c, n, None if pd.isna(k) else k) for c, n, k in got.iloc[:, :3].itertuples(False)]
    assert [r[:2] for r in rows] == sorted(r[:2] for r in rows)  # by code
    assert dict(zip(rows, got["points"], strict=True)) == dict(want)


def test_stats_count_cli_on_a_file_of_270000_rows(demo_ro: Engine, tmp_path: Path) -> None:
    """`onemap stats count` on a local cluster: a CSV big enough that Dask's reader holds its
    text in several Arrow chunks (from about 262,144 rows a partition), counted per town."""
    oracle = PlanOracle(demo_ro)
    pts, answers = _clear_cut(oracle, 36, 1200)
    times = -(-270_000 // len(pts))
    src = tmp_path / "cases.csv"
    pd.DataFrame(
        {
            "编号": np.arange(len(pts) * times),
            "lon": np.tile(pts[:, 0], times),
            "lat": np.tile(pts[:, 1], times),
        }
    ).to_csv(src, index=False)
    want = Counter((a["town"] or {}).get("code", "") for a in answers)
    out = tmp_path / "counts.csv"
    done = run_cli("stats", "count", str(src), "--by", "town", "--csv", str(out), engine=demo_ro)
    assert done.returncode == 0, done.stderr
    assert f"{len(pts) * times:,} points" in done.stdout
    table = pd.read_csv(out, dtype={"镇街代码": str}, keep_default_na=False, encoding="utf-8-sig")
    assert list(table.columns) == ["镇街代码", "镇街名称", "点数"]
    assert dict(zip(table["镇街代码"], table["点数"], strict=True)) == {
        code: n * times for code, n in want.items()
    }
    bad = tmp_path / "bad.csv"
    bad.write_text("id,lon,lat\na,119.01,25.43\nb,25.43,119.01\n")
    refused = run_cli("stats", "count", str(bad), engine=demo_ro)
    assert refused.returncode != 0 and "row 2" in refused.stderr, refused.stderr
    unknown = run_cli("stats", "count", str(bad), "--column", "year", engine=demo_ro)
    assert unknown.returncode != 0 and "no column 'year'" in unknown.stderr, unknown.stderr


def test_onemap_count_in_process_and_on_dask(demo_ro: Engine, cluster: LocalCluster) -> None:
    oracle = PlanOracle(demo_ro)
    pts, answers = _clear_cut(oracle, 37, 600)
    years = [2025 + i % 2 for i in range(len(pts))]
    frame = gpd.GeoDataFrame(
        {"year": years}, geometry=gpd.points_from_xy(pts[:, 0], pts[:, 1]), crs=4326
    )
    want = Counter(
        ((a["grid"] or {}).get("code", ""), y) for a, y in zip(answers, years, strict=True)
    )
    for om in (
        onemap.connect(url_of(demo_ro)),
        onemap.connect(url_of(demo_ro), scheduler=cluster.scheduler_address),
    ):
        got = om.count(frame, "grid", ["year"])
        assert list(got.columns) == ["grid_code", "grid_name", "year", "points"]
        pairs = list(zip(got["grid_code"], got["year"], strict=True))
        assert pairs == sorted(pairs)
        assert dict(zip(pairs, got["points"], strict=True)) == dict(want)
        with pytest.raises(InvalidInput, match="unknown level 'street'"):
            om.count(frame, "street")
    one = onemap.connect(url_of(demo_ro)).count(frame, "grid", "year")  # one column by name
    assert list(one.columns) == ["grid_code", "grid_name", "year", "points"]
