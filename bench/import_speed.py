"""Import speed on the scaled city: each layer's rows/s, and cases against a bare COPY.

The baseline is a COPY of the same million rows (same columns, geometry as EWKB) into an
unindexed table without checks, measured in the same run on the same server.
"""

from __future__ import annotations

import io
import time
from pathlib import Path

import pandas as pd
import shapely
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from bench.common import fresh_database, scaled_city
from gis.io.importer import import_file


def bare_copy(
    engine: Engine, csv_path: Path, into_cases: bool, owners: pd.DataFrame | None = None
) -> float:
    """Seconds to read the CSV and COPY it as-is: into a plain unindexed table, or into
    `cases` itself (same indexes, constraints and foreign keys; rolled back). With `owners`
    (grid_id, unit_id per row, looked up beforehand) the copied rows are exactly the rows
    the import stored, so the foreign-key checks are paid by both sides."""
    started = time.perf_counter()
    frame = pd.read_csv(csv_path, dtype=str, keep_default_na=False)
    if owners is not None:
        frame["grid_id"] = owners["grid_id"].to_numpy()
        frame["unit_id"] = owners["unit_id"].to_numpy()
    geoms = shapely.points(frame.pop("lon").astype(float), frame.pop("lat").astype(float))
    frame["geom"] = shapely.to_wkb(shapely.set_srid(geoms, 4326), hex=True, include_srid=True)
    cols = list(frame.columns)
    with engine.connect() as conn:
        tx = conn.begin()
        target = "cases"
        if not into_cases:
            target = "bare"
            conn.execute(
                sa.text(
                    "CREATE TEMP TABLE bare ("
                    + ", ".join(f"{c} text" for c in cols[:-1])
                    + ", geom geometry)"
                )
            )
        raw = conn.connection.driver_connection
        with (
            raw.cursor() as cur,
            cur.copy(f"COPY {target} ({', '.join(cols)}) FROM STDIN (FORMAT csv)") as cp,
        ):
            for start in range(0, len(frame), 50_000):
                buf = io.StringIO()
                frame.iloc[start : start + 50_000].to_csv(buf, header=False, index=False)
                cp.write(buf.getvalue())
        seconds = time.perf_counter() - started
        tx.rollback()
    return seconds


def main() -> dict[str, float]:
    city = scaled_city()
    figures: dict[str, float] = {}
    with fresh_database() as engine:
        print("import speed, scaled city:")
        for layer in ("districts", "towns", "villages", "grids", "units"):
            s = import_file(engine, layer, city / f"{layer}.geojson")
            print(
                f"  {layer:9s} {s.rows:>9,} rows {s.seconds:7.2f} s {s.rows_per_second:>10,.0f} rows/s"
            )
            figures[f"{layer}_rows_per_s"] = s.rows_per_second
        plain = bare_copy(engine, city / "cases.csv", into_cases=False)
        same = bare_copy(engine, city / "cases.csv", into_cases=True)
        s = import_file(engine, "cases", city / "cases.csv")
        print(
            f"  {'cases':9s} {s.rows:>9,} rows {s.seconds:7.2f} s {s.rows_per_second:>10,.0f} rows/s "
            f"(owners assigned: {s.owned:,})"
        )
        print(
            f"  bare COPY of the same rows into the cases table (same indexes, checks, "
            f"foreign keys): {same:.2f} s -> import / COPY = {s.seconds / same:.2f} "
            "(goal <= 1.5)"
        )
        print(
            f"  bare COPY into an unindexed table: {plain:.2f} s -> import / COPY = "
            f"{s.seconds / plain:.2f}"
        )
        with engine.connect() as conn:
            owners = pd.DataFrame(
                conn.execute(sa.text("SELECT grid_id, unit_id FROM cases ORDER BY id")).all(),
                columns=["grid_id", "unit_id"],
            ).astype("Int64")
        stored = bare_copy(engine, city / "cases.csv", into_cases=True, owners=owners)
        print(
            f"  bare COPY of the rows as stored (owner ids filled in) into cases: {stored:.2f} s"
            f" -> import / COPY = {s.seconds / stored:.2f}"
        )
        figures["cases_rows_per_s"] = s.rows_per_second
        figures["cases_over_copy"] = s.seconds / same
    return figures


if __name__ == "__main__":
    main()
