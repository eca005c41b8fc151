"""Statistics on Dask: points counted per owner (district, town, village, grid or unit), and by
any of their own columns as well (a category, a year), without the located points written.

Each partition is sorted along the Hilbert curve where it lies (a count needs no spatial
partitions, so no shuffle), located by the in-process owner code with the plan sent to the
workers once (gis/owners/bulk_dask.py), counted, and the partitions' counts summed by Dask's
groupby. Points no grid owns (outside the tolerance, or bad rows kept) are counted under an
empty code."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import dask.dataframe as dd
import numpy as np
import pandas as pd
import pyarrow as pa
from distributed import Client
from sqlalchemy.engine import Engine

from gis.crs.systems import InputCRS
from gis.errors import InvalidInput
from gis.owners.bulk import PointColumns, locate_checked, problems
from gis.owners.bulk_dask import (
    PortablePlan,
    _bounds,
    check_dask,
    dask_client,
    hilbert,
    partitioned,
    plan_on,
    record_batch,
)
from gis.owners.bulk_geoparquet import read_points
from gis.owners.cache import owner_index
from gis.owners.counts import COUNT, TEXT, count_columns, ordered, tally
from gis.owners.index import OwnerIndex
from gis.owners.model import DEFAULT_TOLERANCE_M


def _counted(
    part: pd.DataFrame,
    where: PointColumns,
    crs: InputCRS,
    tolerance_m: float,
    plan: PortablePlan,
    keys: list[str],
) -> pd.DataFrame:
    index = plan.index()
    by = keys[2:]
    batch = record_batch(part[list(dict.fromkeys([*where.names, *by]))])
    _, found, lon, lat = problems(batch, where, crs, index.extent)
    order = np.argsort(hilbert(np.nan_to_num(lon), np.nan_to_num(lat), _bounds(index)))
    located, _, _ = locate_checked(
        batch.take(pa.array(order)),
        index,
        [found[i] for i in order.tolist()],
        lon[order],
        lat[order],
        tolerance_m,
        compact=True,
    )
    return tally(pd.DataFrame({k: located.column(k).to_pandas() for k in keys}), keys)


def count_dask(
    client: Client,
    points: dd.DataFrame,
    index: OwnerIndex,
    where: PointColumns,
    crs: InputCRS,
    level: str = "grid",
    by: Sequence[str] = (),
    tolerance_m: float = DEFAULT_TOLERANCE_M,
) -> pd.DataFrame:
    """How many of `points` each owner at `level` holds (and each value of the `by` columns
    within it): columns {level}_code, {level}_name, *by, points; sorted by code."""
    keys = count_columns(level, by, [str(c) for c in points.columns])
    plan = plan_on(client, index)
    meta = pd.DataFrame({k: pd.Series([], dtype=TEXT) for k in keys[:2]})
    for k in keys[2:]:
        meta[k] = points._meta[k]
    meta[COUNT] = pd.Series([], dtype="int64")
    per = points.map_partitions(_counted, where, crs, tolerance_m, plan, keys, meta=meta)
    total = per.groupby(keys, dropna=False, sort=False)[COUNT].sum().compute()
    return ordered(total.reset_index(), keys)


def count_points(
    frame: pd.DataFrame,
    where: PointColumns,
    crs: InputCRS,
    index: OwnerIndex,
    level: str,
    by: Sequence[str],
    scheduler: str | None = None,
    tolerance_m: float = DEFAULT_TOLERANCE_M,
    rows_per_partition: int = 250_000,
) -> pd.DataFrame:
    """count_dask of a frame in memory, on the cluster at `scheduler` (a local one started for
    the occasion by default); for `onemap.connect(scheduler=...).count`."""
    with dask_client(scheduler) as client:
        points = partitioned(frame, rows_per_partition)
        return count_dask(client, points, index, where, crs, level, by, tolerance_m)


def count_file(
    engine: Engine,
    src: Path,
    crs: InputCRS,
    level: str = "grid",
    by: Sequence[str] = (),
    scheduler: str | None = None,
    workers: int = 2,
    lon_col: str | None = None,
    lat_col: str | None = None,
    tolerance_m: float = DEFAULT_TOLERANCE_M,
) -> pd.DataFrame:
    """`onemap stats count SRC`: the points of a CSV or (Geo)Parquet file or dataset counted
    (count_dask) on the cluster at `scheduler` (a local one of `workers` by default); a file
    with a bad row is refused, its bad rows listed, and nothing counted."""
    if not src.exists():
        raise InvalidInput(f"no such file: {src}")
    with engine.connect() as conn:
        index = owner_index(conn)
    points, where = read_points(src, lon_col, lat_col)
    count_columns(level, by, [str(c) for c in points.columns])
    with dask_client(scheduler, workers) as client:
        check_dask(client, points, where, crs, index).refuse(src.name)
        return count_dask(client, points, index, where, crs, level, by, tolerance_m)
