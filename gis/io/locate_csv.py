"""Add owner columns to a CSV of points (`onemap locate --csv`): read and written in batches with
pyarrow, checked whole first, so a file of millions fits in memory and a bad row writes nothing."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy.engine import Engine
from tqdm import tqdm

from gis.crs.systems import InputCRS
from gis.errors import InvalidInput
from gis.owners.bulk import OWNER_COLUMNS, STATUSES
from gis.owners.bulk_io import answer, open_input
from gis.owners.cache import owner_index
from gis.owners.model import DEFAULT_TOLERANCE_M

__all__ = ["OWNER_COLUMNS", "CsvSummary", "locate_csv"]


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
    mark: bool = False,
) -> CsvSummary:
    """Write `dst`: every row of `src` plus the owner columns. A bad row refuses the file
    (RowsRejected lists them; nothing is written) unless `mark`: then it gets locate_status
    "error" and the reason in locate_error."""
    if not src.exists():
        raise InvalidInput(f"no such file: {src}")
    started = time.perf_counter()
    with engine.connect() as conn:
        index = owner_index(conn)
    inp = open_input(src, "csv", lon_col, lat_col, encoding)
    check = inp.check(crs, index.extent)
    check.refuse(src.name, mark)
    counts = dict.fromkeys(STATUSES, 0)

    def seen(batch: pa.RecordBatch) -> None:
        status = batch.column("locate_status")
        for value, n in zip(*pc.value_counts(status.indices).flatten(), strict=True):
            counts[STATUSES[value.as_py()]] += n.as_py()
        bar.update(batch.num_rows)

    tmp = dst.with_name(dst.name + ".part")
    try:
        with (
            tmp.open("wb") as out,
            tqdm(total=check.rows, unit="rows", disable=not progress, desc="locating") as bar,
        ):
            for chunk in answer(inp, index, crs, tolerance_m, seen):
                out.write(chunk)
        tmp.replace(dst)
    finally:
        tmp.unlink(missing_ok=True)
    return CsvSummary(
        check.rows,
        counts["inside"],
        counts["snapped"],
        counts["outside"],
        counts["error"],
        time.perf_counter() - started,
    )
