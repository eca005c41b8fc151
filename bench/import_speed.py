"""Import speed on the scaled city: each layer's rows/s, and cases against a bare COPY.

The baseline is a COPY of the same million rows (same columns, geometry as EWKB) into an
unindexed table without checks, measured in the same run on the same server.
"""

from __future__ import annotations

import io
import time

import pandas as pd
import shapely
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from bench.common import fresh_database, scaled_city
from gis.io.importer import import_file


def bare_copy(engine: Engine, csv_path) -> float:  # type: ignore[no-untyped-def]
    """Seconds to read the CSV and COPY it as-is into a plain table (the baseline)."""
    started = time.perf_counter()
    frame = pd.read_csv(csv_path, dtype=str, keep_default_na=False)
    geoms = shapely.points(frame.pop("lon").astype(float), frame.pop("lat").astype(float))
    frame["geom"] = shapely.to_wkb(shapely.set_srid(geoms, 4326), hex=True, include_srid=True)
    cols = list(frame.columns)
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "CREATE TEMP TABLE bare ("
                + ", ".join(f"{c} text" for c in cols[:-1])
                + ", geom geometry) ON COMMIT DROP"
            )
        )
        raw = conn.connection.driver_connection
        with (
            raw.cursor() as cur,
            cur.copy(f"COPY bare ({', '.join(cols)}) FROM STDIN (FORMAT csv)") as cp,
        ):
            for start in range(0, len(frame), 50_000):
                buf = io.StringIO()
                frame.iloc[start : start + 50_000].to_csv(buf, header=False, index=False)
                cp.write(buf.getvalue())
    return time.perf_counter() - started


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
        baseline = bare_copy(engine, city / "cases.csv")
        s = import_file(engine, "cases", city / "cases.csv")
        print(
            f"  {'cases':9s} {s.rows:>9,} rows {s.seconds:7.2f} s {s.rows_per_second:>10,.0f} rows/s "
            f"(owners assigned: {s.owned:,})"
        )
        print(
            f"  bare COPY of the same rows: {baseline:.2f} s "
            f"-> import / COPY = {s.seconds / baseline:.2f}"
        )
        figures["cases_rows_per_s"] = s.rows_per_second
        figures["cases_over_copy"] = s.seconds / baseline
    return figures


if __name__ == "__main__":
    main()
