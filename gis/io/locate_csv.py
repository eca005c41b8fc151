"""Add owner columns to a CSV of points, in chunks, so a file of millions fits in memory."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from sqlalchemy.engine import Engine
from tqdm import tqdm

from gis.crs.systems import InputCRS
from gis.errors import InvalidInput
from gis.io.read import LAT_NAMES, LON_NAMES, _pick
from gis.owners.cache import owner_index
from gis.owners.model import DEFAULT_TOLERANCE_M, TABLE_COLUMNS
from gis.owners.pointcheck import cached_extent, check_points

CHUNK = 100_000
# The owner columns added to each row; `status` and `error` get a prefix, as input files
# often have columns of those names.
OWNER_COLUMNS = (
    *(f"locate_{c}" if c == "status" else c for c in TABLE_COLUMNS),
    "locate_error",
)


@dataclass
class CsvSummary:
    rows: int
    inside: int
    snapped: int
    outside: int
    errors: int
    seconds: float

    def __str__(self) -> str:
        return (
            f"{self.rows:,} rows in {self.seconds:.1f} s ({self.rows / max(self.seconds, 1e-9):,.0f}"
            f" rows/s): {self.inside:,} inside, {self.snapped:,} snapped, "
            f"{self.outside:,} outside coverage, {self.errors:,} refused"
        )


def _count_rows(path: Path) -> int:
    with path.open("rb") as f:
        return max(sum(chunk.count(b"\n") for chunk in iter(lambda: f.read(1 << 20), b"")) - 1, 0)


def locate_csv(
    engine: Engine,
    src: Path,
    dst: Path,
    crs: InputCRS,
    lon_col: str | None = None,
    lat_col: str | None = None,
    encoding: str | None = None,
    tolerance_m: float = DEFAULT_TOLERANCE_M,
    progress: bool = False,
) -> CsvSummary:
    """Write `dst`: every row of `src` plus the owner columns; bad rows get an `error`."""
    if not src.exists():
        raise InvalidInput(f"no such file: {src}")
    started = time.perf_counter()
    try:
        header = pd.read_csv(src, nrows=0, encoding=encoding or "utf-8-sig")
    except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise InvalidInput(f"cannot read {src.name} as CSV: {exc}; try --encoding GBK") from exc
    columns = [str(c) for c in header.columns]
    lon_name = _pick(columns, lon_col, LON_NAMES, "longitude")
    lat_name = _pick(columns, lat_col, LAT_NAMES, "latitude")
    clash = [c for c in OWNER_COLUMNS if c in columns]
    if clash:
        raise InvalidInput(f"{src.name} already has column(s) {', '.join(clash)}; rename them")
    counts = dict(inside=0, snapped=0, outside=0, errors=0, rows=0)
    with engine.connect() as conn:
        index = owner_index(conn)
        extent = cached_extent(conn)
    tmp = dst.with_name(dst.name + ".part")
    reader = pd.read_csv(
        src, dtype=str, keep_default_na=False, chunksize=CHUNK, encoding=encoding or "utf-8-sig"
    )
    with tqdm(total=_count_rows(src), unit="rows", disable=not progress, desc="locating") as bar:
        for n, chunk in enumerate(reader):
            x = pd.to_numeric(chunk[lon_name], errors="coerce").to_numpy(float)
            y = pd.to_numeric(chunk[lat_name], errors="coerce").to_numpy(float)
            checked = check_points(x, y, crs, extent)
            ok = np.array([p is None for p in checked.problems], dtype=bool)
            owners = index.owners(checked.lon[ok], checked.lat[ok], tolerance_m)
            table = index.table(owners)
            out = chunk.copy()
            for col in OWNER_COLUMNS[:-1]:
                values = np.full(len(chunk), "", dtype=object)
                values[ok] = table[col.replace("locate_", "")]
                out[col] = values
            out.loc[~ok, "locate_status"] = "error"
            out["locate_error"] = [p or "" for p in checked.problems]
            out.to_csv(tmp, mode="w" if n == 0 else "a", header=n == 0, index=False)
            for status in ("inside", "snapped", "outside"):
                counts[status] += int((table["status"] == status).sum())
            counts["errors"] += int((~ok).sum())
            counts["rows"] += len(chunk)
            bar.update(len(chunk))
    tmp.replace(dst)
    return CsvSummary(
        counts["rows"],
        counts["inside"],
        counts["snapped"],
        counts["outside"],
        counts["errors"],
        time.perf_counter() - started,
    )
