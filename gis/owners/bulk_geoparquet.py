"""Bulk locate on Dask into a GeoParquet dataset: each Hilbert partition located and written by
its worker straight from Arrow (one file a partition), and `onemap locate --scheduler`."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import dask.dataframe as dd
import dask_geopandas
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from distributed import Client
from pyproj import CRS
from sqlalchemy.engine import Engine

from gis.crs.systems import InputCRS
from gis.errors import InvalidInput
from gis.io.locate_csv import CsvSummary
from gis.io.read import LAT_NAMES, LON_NAMES, _pick
from gis.owners.bulk import (
    OWNER_COLUMNS,
    STATUSES,
    PointColumns,
    locate_batch,
    refuse_clashes,
)
from gis.owners.bulk_dask import PortablePlan, check_dask, dask_client, record_batch, spatial
from gis.owners.cache import owner_index
from gis.owners.index import OwnerIndex
from gis.owners.model import DEFAULT_TOLERANCE_M

GEOMETRY = "geometry"
GEO = json.dumps(
    {
        "version": "1.1.0",
        "primary_column": GEOMETRY,
        "columns": {
            GEOMETRY: {
                "encoding": "WKB",
                "geometry_types": ["Point"],
                "crs": CRS.from_epsg(4326).to_json_dict(),
            }
        },
    }
).encode()
_WKB = np.dtype([("order", "u1"), ("type", "<u4"), ("x", "<f8"), ("y", "<f8")])  # 21 bytes


def point_wkb(x: np.ndarray, y: np.ndarray) -> pa.BinaryArray:
    """Points as WKB (little-endian, 21 bytes each), built from the coordinates at once."""
    records = np.empty(len(x), dtype=_WKB)
    records["order"], records["type"], records["x"], records["y"] = 1, 1, x, y
    offsets = np.arange(0, 21 * (len(x) + 1), 21, dtype=np.int32)
    buffers = [None, pa.py_buffer(offsets), pa.py_buffer(records.tobytes())]
    return pa.BinaryArray.from_buffers(pa.binary(), len(x), buffers)


def _write(
    part: pd.DataFrame,
    where: PointColumns,
    crs: InputCRS,
    tolerance_m: float,
    plan: PortablePlan,
    dst: str,
    partition_info: dict[str, Any] | None = None,
) -> pd.DataFrame:
    batch = record_batch(part)
    located, lon, lat = locate_batch(batch, plan.index(), where, crs, tolerance_m, compact=True)
    table = pa.Table.from_batches([located]).append_column(GEOMETRY, point_wkb(lon, lat))
    table = table.replace_schema_metadata({**(table.schema.metadata or {}), b"geo": GEO})
    number = (partition_info or {}).get("number", 0)
    # lz4: as small as snappy, faster; no min/max statistics of the WKB (of no use to readers);
    # dictionary pages for the owner columns only (the input's own are written as they come:
    # a dictionary tried on unique coordinates is work thrown away)
    stats = [n for n in table.schema.names if n != GEOMETRY]
    pq.write_table(
        table,
        Path(dst) / f"part.{number}.parquet",
        compression="lz4",
        write_statistics=stats,
        use_dictionary=list(OWNER_COLUMNS),
    )
    status = located.column("locate_status")
    counts = np.bincount(status.indices.to_numpy(zero_copy_only=False), minlength=len(STATUSES))
    return pd.DataFrame([counts], columns=list(STATUSES))


def locate_to_parquet(
    client: Client,
    points: dd.DataFrame,
    index: OwnerIndex,
    where: PointColumns,
    crs: InputCRS,
    dst: Path,
    tolerance_m: float = DEFAULT_TOLERANCE_M,
    partitions: int | None = None,
) -> dict[str, int]:
    """Locate `points` on the cluster into the GeoParquet dataset `dst` (a directory the
    workers can write to); how many rows got each locate_status."""
    plan, shuffled = spatial(client, points, index, where, crs, partitions)
    dst.mkdir(parents=True, exist_ok=True)
    meta = pd.DataFrame({s: pd.Series([], dtype="int64") for s in STATUSES})
    done = shuffled.map_partitions(_write, where, crs, tolerance_m, plan, str(dst), meta=meta)
    totals = done.compute().sum()
    return {s: int(totals[s]) for s in STATUSES}


def read_points(src: Path, lon_col: str | None, lat_col: str | None) -> tuple[Any, PointColumns]:
    """A CSV (every column as text) or a (Geo)Parquet file or dataset as a Dask frame, and
    where its points are (a GeoParquet geometry becomes lon and lat columns)."""
    if src.suffix.lower() == ".csv":
        frame = dd.read_csv(src, dtype=str, keep_default_na=False, blocksize="32MB")
    else:
        frame = dd.read_parquet(src)
        meta = pq.read_schema(next(iter(sorted(src.glob("*.parquet")))) if src.is_dir() else src)
        if meta.metadata and b"geo" in meta.metadata and lon_col is None:
            frame = dask_geopandas.read_parquet(src)
            geom = frame.geometry.name
            frame = frame.assign(lon=frame.geometry.x, lat=frame.geometry.y).drop(columns=geom)
    names = [str(c) for c in frame.columns]
    refuse_clashes(names, src.name)
    where = PointColumns(
        _pick(names, lon_col, LON_NAMES, "longitude"), _pick(names, lat_col, LAT_NAMES, "latitude")
    )
    return frame, where


def locate_files(
    engine: Engine,
    src: Path,
    dst: Path,
    crs: InputCRS,
    scheduler: str | None = None,
    workers: int = 2,
    lon_col: str | None = None,
    lat_col: str | None = None,
    tolerance_m: float = DEFAULT_TOLERANCE_M,
    mark: bool = False,
) -> CsvSummary:
    """`onemap locate --csv SRC --out DST --scheduler ...`: SRC located on Dask, written as a
    GeoParquet dataset at DST; a bad row refuses the file (nothing written) unless `mark`."""
    if not src.exists():
        raise InvalidInput(f"no such file: {src}")
    if dst.exists():
        raise InvalidInput(f"{dst} exists: give a new directory for the GeoParquet dataset")
    started = time.perf_counter()
    with engine.connect() as conn:
        index = owner_index(conn)
    points, where = read_points(src, lon_col, lat_col)
    with dask_client(scheduler, workers) as client:
        check = check_dask(client, points, where, crs, index)
        check.refuse(src.name, mark)
        found = locate_to_parquet(client, points, index, where, crs, dst, tolerance_m)
    return CsvSummary(
        check.rows,
        found["inside"],
        found["snapped"],
        found["outside"],
        found["error"],
        time.perf_counter() - started,
    )
