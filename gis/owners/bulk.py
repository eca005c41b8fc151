"""Bulk locate on Arrow record batches: every input column kept, the owner columns added (as
Arrow dictionaries, so a million rows cost a few index arrays), and bad rows found by a check
that runs before any answer is written, so a file with bad rows is refused whole.

The same code serves POST /api/v1/locate (CSV, Arrow IPC, GeoParquet, columnar JSON), the
command line (`onemap locate --csv`) and the Dask workers (gis/owners/bulk_dask.py).
"""

from __future__ import annotations

import weakref
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import shapely
from numpy.typing import NDArray

from gis.crs.systems import InputCRS
from gis.errors import InvalidInput, RowError, RowsRejected
from gis.owners.extent import Extent
from gis.owners.index import OwnerIndex
from gis.owners.model import (
    CHAIN_COLUMNS,
    DEFAULT_TOLERANCE_M,
    OWNER_COLUMNS,
    Owners,
)
from gis.owners.pointcheck import check_points

STATUSES = ("inside", "snapped", "outside", "error")
SHOWN_ERRORS = 100  # bad rows listed in a refusal (all are counted)


@dataclass(frozen=True)
class PointColumns:
    """Where a batch holds its points: two number columns, or a WKB point geometry."""

    lon: str | None = None
    lat: str | None = None
    geometry: str | None = None

    @property
    def names(self) -> list[str]:
        return [n for n in (self.lon, self.lat, self.geometry) if n is not None]

    def describe(self) -> str:
        return self.geometry or f"{self.lon},{self.lat}"


@dataclass
class Points:
    """A batch's points as numbers (NaN where unreadable) and why each unreadable one is."""

    x: NDArray[np.float64]
    y: NDArray[np.float64]
    unreadable: dict[int, tuple[str, object, str]] = field(default_factory=dict)
    """batch row -> (column, value, reason)"""


def _numbers(col: pa.ChunkedArray | pa.Array) -> NDArray[np.float64]:
    if pa.types.is_string(col.type) or pa.types.is_large_string(col.type):
        try:
            col = pc.cast(pc.utf8_trim_whitespace(col), pa.float64())
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):  # some cell is no number
            text = col.to_numpy(zero_copy_only=False)
            return np.asarray(pd.to_numeric(text, errors="coerce"), dtype=float)
    elif not (pa.types.is_floating(col.type) or pa.types.is_integer(col.type)):
        raise InvalidInput(f"the coordinate column is {col.type}, not numbers")
    return np.asarray(pc.cast(col, pa.float64()).to_numpy(zero_copy_only=False), dtype=float)


def points_of(batch: pa.RecordBatch | pa.Table, where: PointColumns) -> Points:
    """The points of `batch`; unreadable ones NaN, with their cell and the reason."""
    if where.geometry is not None:
        wkb = batch.column(where.geometry).to_numpy(zero_copy_only=False)
        try:
            geoms = shapely.from_wkb(wkb, on_invalid="ignore")
        except shapely.errors.GEOSException as exc:  # pragma: no cover - shapely raises little
            raise InvalidInput(f"{where.geometry}: not WKB geometries ({exc})") from None
        kind = shapely.get_type_id(geoms)
        good = (kind == 0) & ~shapely.is_empty(geoms)
        x = np.where(good, shapely.get_x(geoms), np.nan)
        y = np.where(good, shapely.get_y(geoms), np.nan)
        bad: dict[int, tuple[str, object, str]] = {}
        for i in np.flatnonzero(~good).tolist():
            g = geoms[i]
            what = "no geometry" if g is None else "empty" if kind[i] == 0 else g.geom_type
            bad[i] = (where.geometry, None, f"{what}, not a point")
        return Points(x, y, bad)
    assert where.lon is not None and where.lat is not None
    out = Points(_numbers(batch.column(where.lon)), _numbers(batch.column(where.lat)))
    for name, values in ((where.lon, out.x), (where.lat, out.y)):
        for i in np.flatnonzero(~np.isfinite(values)).tolist():
            if i not in out.unreadable:
                cell = batch.column(name)[i].as_py()
                reason = "empty" if cell in (None, "") else "not a number"
                out.unreadable[i] = (name, cell, reason)
    return out


@dataclass
class Check:
    """What the check of a whole input found: its rows and its bad rows (all counted, the
    first SHOWN_ERRORS kept), rows numbered from 1 after the header."""

    rows: int = 0
    bad: int = 0
    unsplit: int = 0  # rows the reader could not split into fields
    errors: list[RowError] = field(default_factory=list)

    def refuse(self, source: str, mark: bool = False) -> None:
        """RowsRejected when a row is bad (with `mark`, only rows that cannot be split are):
        then nothing of the input is answered."""
        if self.unsplit if mark else self.bad:
            shown = [e for e in self.errors if not mark or e.field == "(row)"]
            raise RowsRejected(source, shown, self.rows, self.unsplit if mark else self.bad)


def problems(
    batch: pa.RecordBatch | pa.Table, where: PointColumns, crs: InputCRS, extent: Extent
) -> tuple[Points, list[str | None], NDArray[np.float64], NDArray[np.float64]]:
    """Each row's problem (None when fine) and the points in EPSG:4326."""
    pts = points_of(batch, where)
    checked = check_points(pts.x, pts.y, crs, extent)
    found = checked.problems
    for i, (_, _, reason) in pts.unreadable.items():
        found[i] = reason
    return pts, found, checked.lon, checked.lat


def fine(found: list[str | None]) -> NDArray[np.bool_]:
    """True where a row has no problem."""
    if found.count(None) == len(found):  # the usual case, at a twentieth of the cost
        return np.ones(len(found), dtype=bool)
    return np.asarray(np.array(found, dtype=object) == None)  # noqa: E711 (elementwise)


def check_batches(
    batches: Iterable[pa.RecordBatch],
    where: PointColumns,
    crs: InputCRS,
    extent: Extent,
    unsplit: list[RowError] | None = None,
) -> Check:
    """Read every batch and note each bad row.

    `unsplit`: filled by the reader while it reads, the rows it could not split into fields
    (numbered as in the file); the other rows' numbers skip them."""
    check = Check()
    found: list[tuple[int, str, object, str]] = []  # (index among read rows, ...)
    for batch in batches:
        start = check.rows
        check.rows += batch.num_rows
        pts, reasons, _, _ = problems(batch, where, crs, extent)
        for i in np.flatnonzero(~fine(reasons)).tolist():
            problem = str(reasons[i])
            check.bad += 1
            if len(found) < SHOWN_ERRORS:
                column, value, _ = pts.unreadable.get(i, (where.describe(), None, ""))
                if i not in pts.unreadable and where.geometry is None:
                    value = f"({pts.x[i]:g}, {pts.y[i]:g})"
                found.append((start + i, column, value, problem))
    skipped = sorted(e.row for e in unsplit or [])
    rows = np.array([k for k, *_ in found], dtype=np.int64) + 1
    for s in skipped:  # the k-th row read is the k-th row of the file not skipped
        rows += rows >= s
    errors = [RowError(int(r), c, v, why) for r, (_, c, v, why) in zip(rows, found, strict=True)]
    check.unsplit = len(unsplit or [])
    check.rows += check.unsplit
    check.bad += check.unsplit
    check.errors = sorted([*errors, *(unsplit or [])[:SHOWN_ERRORS]], key=lambda e: e.row)
    check.errors = check.errors[:SHOWN_ERRORS]
    return check


class OwnerDictionaries:
    """The plan's owner names as Arrow dictionaries and, per grid (or unit), each one's index:
    the owner columns of N points are N small integers per column."""

    def __init__(self, index: OwnerIndex) -> None:
        self.version = index.version
        self.dicts: dict[str, pa.Array] = {}
        self.of: dict[str, NDArray[np.int32]] = {}  # per grid (unit), index into dicts[...]
        for name in (*CHAIN_COLUMNS, "unit_code", "unit_name"):
            per = index.columns[name][:-1]  # [-1] is the "" of no grid
            uniques, inverse = np.unique(per.astype(str), return_inverse=True)
            self.dicts[name] = pa.array(uniques, pa.string())
            self.of[name] = np.append(inverse.astype(np.int32), -1)  # [-1]: none
        self.status = pa.array(STATUSES, pa.string())


_dictionaries: weakref.WeakKeyDictionary[OwnerIndex, OwnerDictionaries] = (
    weakref.WeakKeyDictionary()
)


def dictionaries(index: OwnerIndex) -> OwnerDictionaries:
    """The OwnerDictionaries of `index`, built once per index."""
    found = _dictionaries.get(index)
    if found is None:
        found = _dictionaries[index] = OwnerDictionaries(index)
    return found


def _dict(indices: NDArray[np.integer], dictionary: pa.Array) -> pa.DictionaryArray:
    idx = pa.array(indices.astype(np.int32), mask=indices < 0)
    return pa.DictionaryArray.from_arrays(idx, dictionary)


def owner_arrays(
    index: OwnerIndex, owners: Owners, ok: NDArray[np.bool_], errors: list[str | None]
) -> list[pa.Array]:
    """The OWNER_COLUMNS of a batch: `owners` holds its `ok` rows; the others are "error"
    rows with their reason in locate_error."""
    d = dictionaries(index)
    n = len(ok)

    def spread(values: NDArray[np.int64], fill: int = -1) -> NDArray[np.int64]:
        out = np.full(n, fill, dtype=np.int64)
        out[ok] = values
        return out

    grid, unit, nearest = spread(owners.grid), spread(owners.unit), spread(owners.nearest)
    status = np.full(n, 3, dtype=np.int64)
    status[ok] = np.select([owners.status == "snapped", owners.status == "outside"], [1, 2], 0)
    cols: dict[str, pa.Array] = {"locate_status": _dict(status, d.status)}
    for name in CHAIN_COLUMNS:
        cols[name] = _dict(d.of[name][grid], d.dicts[name])
    for name in ("unit_code", "unit_name"):
        cols[name] = _dict(d.of[name][unit], d.dicts[name])
    boundary = np.zeros(n, dtype=bool)
    boundary[ok] = owners.on_boundary
    cols["on_boundary"] = pa.array(boundary, mask=~ok)
    distance = np.zeros(n)
    distance[ok] = np.round(owners.distance_m, 2)
    cols["distance_m"] = pa.array(distance, mask=~ok | ~np.isfinite(distance))
    cols["nearest_grid_code"] = _dict(d.of["grid_code"][nearest], d.dicts["grid_code"])
    cols["locate_error"] = pa.array(errors, pa.string())
    return [cols[c] for c in OWNER_COLUMNS]


def with_owners(
    batch: pa.RecordBatch,
    index: OwnerIndex,
    where: PointColumns,
    crs: InputCRS,
    tolerance_m: float = DEFAULT_TOLERANCE_M,
) -> pa.RecordBatch:
    """`batch` with the owner columns appended; a bad row gets locate_status "error"."""
    return locate_batch(batch, index, where, crs, tolerance_m)[0]


def locate_batch(
    batch: pa.RecordBatch,
    index: OwnerIndex,
    where: PointColumns,
    crs: InputCRS,
    tolerance_m: float = DEFAULT_TOLERANCE_M,
    compact: bool = False,
) -> tuple[pa.RecordBatch, NDArray[np.float64], NDArray[np.float64]]:
    """with_owners, and the rows' points in EPSG:4326 as coordinates (NaN for bad rows): the
    callers make what they need of them (WKB straight from the numbers, or shapely points).
    `compact`: rows in a compact order (see OwnerIndex.owners)."""
    _, found, lon, lat = problems(batch, where, crs, index.extent)
    return locate_checked(batch, index, found, lon, lat, tolerance_m, compact)


def locate_checked(
    batch: pa.RecordBatch,
    index: OwnerIndex,
    found: list[str | None],
    lon: NDArray[np.float64],
    lat: NDArray[np.float64],
    tolerance_m: float = DEFAULT_TOLERANCE_M,
    compact: bool = False,
) -> tuple[pa.RecordBatch, NDArray[np.float64], NDArray[np.float64]]:
    """locate_batch of rows already checked: `found`, `lon` and `lat` as problems() gives."""
    ok = fine(found)
    lon, lat = np.where(ok, lon, np.nan), np.where(ok, lat, np.nan)
    owners = index.owners(lon[ok], lat[ok], tolerance_m, compact=compact)
    arrays = [*batch.columns, *owner_arrays(index, owners, ok, found)]
    names = [*batch.schema.names, *OWNER_COLUMNS]
    return pa.RecordBatch.from_arrays(arrays, names=names), lon, lat


def owner_schema(schema: pa.Schema) -> pa.Schema:
    """The answer's schema for an input of `schema` (its metadata, e.g. GeoParquet's, kept)."""
    dict_string = pa.dictionary(pa.int32(), pa.string())
    types = {"on_boundary": pa.bool_(), "distance_m": pa.float64(), "locate_error": pa.string()}
    fields = [pa.field(c, types.get(c, dict_string)) for c in OWNER_COLUMNS]
    return pa.schema([*schema, *fields], metadata=schema.metadata)


def locate_batches(
    batches: Iterable[pa.RecordBatch],
    index: OwnerIndex,
    where: PointColumns,
    crs: InputCRS,
    tolerance_m: float = DEFAULT_TOLERANCE_M,
) -> Iterator[pa.RecordBatch]:
    """Each batch with its owner columns, as it is computed."""
    for batch in batches:
        if batch.num_rows:
            yield with_owners(batch, index, where, crs, tolerance_m)


def refuse_clashes(names: Iterable[str], source: str) -> None:
    """InvalidInput when the input already has an owner column (it would be ambiguous)."""
    clash = [c for c in OWNER_COLUMNS if c in set(names)]
    if clash:
        raise InvalidInput(f"{source} already has column(s) {', '.join(clash)}; rename them")
