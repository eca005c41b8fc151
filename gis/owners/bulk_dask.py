"""Bulk locate past one machine, on Dask: a `distributed` cluster (a local one by default, any
by its scheduler's address), the plan sent to every worker once, the points partitioned along
a Hilbert curve over the city, each partition located by the in-process owner code
(gis/owners/bulk.py) and the result written as GeoParquet by dask-geopandas.

Partitions follow the Hilbert curve with divisions taken from the plan itself (the curve's
positions of the units' centres, in quantiles): units are small where points are dense, so the
partitions come out about even without a pass over the points to measure them.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from itertools import pairwise
from typing import Any

import dask.dataframe as dd
import dask_geopandas
import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import shapely
from distributed import Client, Future, LocalCluster
from geopandas.tools.hilbert_curve import _continuous_to_discrete, _encode

from gis.crs.systems import InputCRS
from gis.errors import RowError
from gis.owners.bulk import (
    Check,
    PointColumns,
    check_batches,
    locate_batch,
    problems,
    with_owners,
)
from gis.owners.index import OwnerIndex
from gis.owners.model import DEFAULT_TOLERANCE_M

HILBERT_LEVEL = 16
KEY = "_hilbert"
LOCAL = "local"
_rebuilt: dict[str, OwnerIndex] = {}  # per worker process: the plans it was sent, rebuilt


@contextmanager
def dask_client(scheduler: str | None = None, workers: int = 2) -> Iterator[Client]:
    """A client of the cluster at `scheduler` (tcp://host:8786), or of a local cluster of
    `workers` processes started for the occasion (None or "local") and closed after it."""
    logging.getLogger("distributed.shuffle").setLevel(logging.ERROR)  # a warning per shuffle
    if scheduler not in (None, LOCAL):
        with Client(scheduler) as client:
            yield client
        return
    with (
        LocalCluster(n_workers=workers, threads_per_worker=1, dashboard_address=None) as cluster,
        Client(cluster) as client,
    ):
        yield client


class PortablePlan:
    """An OwnerIndex as Dask sends it to workers: its arrays (the database rows as dicts, no
    WKB; the shapes as one WKB buffer each, which Dask sends as it is, ten times faster than
    shapely objects one by one), without what OwnerIndex.derive() rebuilds faster than it is
    sent (trees, lookups, metric shapes); rebuilt once per worker process by `index()`."""

    SHAPES = ("grid_geoms", "unit_geoms")

    def __init__(self, index: OwnerIndex) -> None:
        left = {*OwnerIndex.DERIVED, *self.SHAPES}
        state = {k: v for k, v in vars(index).items() if k not in left}
        state["grid_rows"] = [_row(r) for r in index.grid_rows]
        state["unit_rows"] = [_row(r) for r in index.unit_rows]
        self.version, self.state = index.version, state
        self.shapes = {k: _flat(getattr(index, k)) for k in self.SHAPES}

    def index(self) -> OwnerIndex:
        found = _rebuilt.get(self.version)
        if found is None:
            found = OwnerIndex.__new__(OwnerIndex)
            found.__dict__.update(self.state)
            for k, (buffer, offsets) in self.shapes.items():
                setattr(found, k, _shapes(buffer, offsets))
            found.derive()
            _rebuilt.clear()  # one plan per worker at a time
            _rebuilt[self.version] = found
        return found


def _flat(geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Shapes as one buffer of their WKB and the offsets where each starts (and the last ends)."""
    wkb = shapely.to_wkb(geoms)
    offsets = np.zeros(len(wkb) + 1, dtype=np.int64)
    np.cumsum([len(b) for b in wkb], out=offsets[1:])
    return np.frombuffer(b"".join(wkb), dtype=np.uint8), offsets


def _shapes(buffer: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    data = buffer.tobytes()
    return shapely.from_wkb(np.array([data[a:b] for a, b in pairwise(offsets.tolist())], object))


def _row(r: Any) -> dict[str, Any]:
    return {k: v for k, v in dict(r).items() if k != "wkb"}


_scattered: dict[tuple[str, str], Future] = {}


def plan_on(client: Client, index: OwnerIndex) -> Future:
    """The plan sent to every worker of `client`'s cluster, once per plan version."""
    key = (str(client.id), index.version)
    if key not in _scattered:
        _scattered[key] = client.scatter(PortablePlan(index), broadcast=True, hash=False)
    return _scattered[key]


def _bounds(index: OwnerIndex) -> tuple[float, float, float, float]:
    e = index.extent
    return (e.minx, e.miny, e.maxx, e.maxy)


def hilbert(lon: np.ndarray, lat: np.ndarray, bounds: tuple[float, ...]) -> np.ndarray:
    """Each point's position on the Hilbert curve over `bounds`: geopandas' own encoding (that
    of GeoSeries.hilbert_distance), given the coordinates rather than shapely points, whose
    bounds cost ten times the encoding."""
    side = (1 << HILBERT_LEVEL) - 1
    x = _continuous_to_discrete(np.asarray(lon, dtype=float), (bounds[0], bounds[2]), side)
    y = _continuous_to_discrete(np.asarray(lat, dtype=float), (bounds[1], bounds[3]), side)
    return np.asarray(_encode(HILBERT_LEVEL, x, y))


def divisions(index: OwnerIndex, parts: int) -> list[int]:
    """`parts` Hilbert ranges holding about as many units each (see the module's docstring)."""
    centres = shapely.centroid(index.unit_geoms)
    keys = hilbert(shapely.get_x(centres), shapely.get_y(centres), _bounds(index))
    inner = np.quantile(keys, np.linspace(0, 1, parts + 1)[1:-1]).astype(np.int64)
    top = (1 << (2 * HILBERT_LEVEL)) - 1
    return sorted({0, *inner.tolist(), top})


def record_batch(frame: pd.DataFrame) -> pa.RecordBatch:
    """A partition as one Arrow batch, its index left out (text read by Dask's CSV reader is
    held in Arrow chunks, which a batch cannot take as they are)."""
    table = pa.Table.from_pandas(frame.reset_index(drop=True), preserve_index=False)
    return (
        table.combine_chunks().to_batches(max_chunksize=None)[0]
        if table.num_rows
        else (pa.RecordBatch.from_pylist([], schema=table.schema))
    )


def _keyed(part: pd.DataFrame, where: PointColumns, crs: InputCRS, plan: PortablePlan) -> Any:
    index = plan.index()
    batch = record_batch(part[where.names])
    _, _, lon, lat = problems(batch, where, crs, index.extent)
    out = part.copy()
    out[KEY] = hilbert(np.nan_to_num(lon), np.nan_to_num(lat), _bounds(index))
    return out


TYPES = {pa.bool_(): pd.BooleanDtype(), pa.string(): pd.StringDtype("pyarrow")}
TYPES[pa.large_string()] = TYPES[pa.string()]


def _frame(located: pa.RecordBatch | pa.Table) -> pd.DataFrame:
    """A located batch as pandas: owner names as categoricals (the plan's dictionaries), text
    and flags with nulls typed, so every partition and the meta agree."""
    return located.to_pandas(types_mapper=TYPES.get)


def _located(
    part: pd.DataFrame, where: PointColumns, crs: InputCRS, tolerance_m: float, plan: PortablePlan
) -> gpd.GeoDataFrame:
    batch = record_batch(part)
    located, lon, lat = locate_batch(batch, plan.index(), where, crs, tolerance_m, compact=True)
    return gpd.GeoDataFrame(_frame(located), geometry=shapely.points(lon, lat), crs="EPSG:4326")


def spatial(
    client: Client,
    points: dd.DataFrame,
    index: OwnerIndex,
    where: PointColumns,
    crs: InputCRS,
    partitions: int | None = None,
) -> tuple[Future, dd.DataFrame]:
    """The plan on the workers, and `points` shuffled into Hilbert ranges of the city."""
    plan = plan_on(client, index)
    parts = partitions or points.npartitions
    meta = points._meta.assign(**{KEY: np.zeros(0, dtype=np.uint32)})
    keyed = points.map_partitions(_keyed, where, crs, plan, meta=meta)
    return plan, keyed.set_index(
        KEY, divisions=divisions(index, parts), sorted=False, shuffle_method="tasks"
    )


def locate_dask(
    client: Client,
    points: dd.DataFrame,
    index: OwnerIndex,
    where: PointColumns,
    crs: InputCRS,
    tolerance_m: float = DEFAULT_TOLERANCE_M,
    partitions: int | None = None,
) -> dask_geopandas.GeoDataFrame:
    """`points` with the owner columns and a point geometry (EPSG:4326), partitioned along the
    Hilbert curve; lazy: compute it, or write it with dask-geopandas (to_parquet). To write
    GeoParquet, gis/owners/bulk_geoparquet.py goes faster (no pandas on the way)."""
    plan, shuffled = spatial(client, points, index, where, crs, partitions)
    # the answer's shape, categories (the plan's names) included: an empty batch located
    empty = record_batch(points._meta)
    out_meta = gpd.GeoDataFrame(
        _frame(with_owners(empty, index, where, crs, tolerance_m)),
        geometry=gpd.GeoSeries([], crs="EPSG:4326"),
    )
    return shuffled.map_partitions(_located, where, crs, tolerance_m, plan, meta=out_meta)


def _checked(
    part: pd.DataFrame, where: PointColumns, crs: InputCRS, plan: PortablePlan
) -> pd.DataFrame:
    batch = record_batch(part[where.names])
    c = check_batches([batch], where, crs, plan.index().extent)
    shown = [(e.row, e.field, str(e.value), e.reason) for e in c.errors]
    return pd.DataFrame({"rows": [c.rows], "bad": [c.bad], "errors": [shown]})


def check_dask(
    client: Client, points: dd.DataFrame, where: PointColumns, crs: InputCRS, index: OwnerIndex
) -> Check:
    """Every row of `points` checked on the workers (rows numbered from 1 in order)."""
    plan = plan_on(client, index)
    meta = {"rows": "int64", "bad": "int64", "errors": "object"}
    per = points.map_partitions(_checked, where, crs, plan, meta=meta).compute()
    check, offset = Check(), 0
    for rows, bad, shown in per.itertuples(index=False):
        check.rows += int(rows)
        check.bad += int(bad)
        check.errors += [RowError(offset + r, f, v, why) for r, f, v, why in shown]
        offset += int(rows)
    check.errors = check.errors[:100]
    return check


def partitioned(frame: pd.DataFrame, rows_per_partition: int = 250_000) -> dd.DataFrame:
    """A frame in memory as a Dask frame: two partitions at least (both workers busy), and no
    more than `rows_per_partition` rows in one."""
    return dd.from_pandas(frame, npartitions=max(2, -(-len(frame) // rows_per_partition)))


def locate_points(
    x: np.ndarray,
    y: np.ndarray,
    crs: InputCRS,
    index: OwnerIndex,
    scheduler: str | None = None,
    tolerance_m: float = DEFAULT_TOLERANCE_M,
    rows_per_partition: int = 250_000,
) -> pd.DataFrame:
    """The owner columns of points (x, y), in their order, computed on Dask (bad points get
    locate_status "error", as in process); for `onemap.connect(scheduler=...)`."""
    frame = pd.DataFrame({"_row": np.arange(len(x)), "x": x, "y": y})
    with dask_client(scheduler) as client:
        points = partitioned(frame, rows_per_partition)
        located = locate_dask(client, points, index, PointColumns("x", "y"), crs, tolerance_m)
        out = located.compute()
    out = pd.DataFrame(out.drop(columns="geometry")).sort_values("_row").reset_index(drop=True)
    return out.astype(object).where(out.notna(), None)
