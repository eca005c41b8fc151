"""(a) Bulk join on the scaled city: OneMap's full owner join against a bare STRtree query.

Baseline: `shapely.STRtree(grids).query(points, predicate="intersects")`, the textbook
point-in-polygon join on the same arrays, single call. OneMap's join gives each point its
grid and unit by the ownership rules (lowest code on shared edges, snapping, nearest grid).
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import shapely

from bench.common import scaled_city, scaled_database
from gis.owners.index import OwnerIndex


def main() -> dict[str, float]:
    city = scaled_city()
    cases = pd.read_csv(city / "cases.csv", usecols=["lon", "lat"])
    points = shapely.points(cases["lon"].to_numpy(), cases["lat"].to_numpy())
    with scaled_database(city) as engine, engine.connect() as conn:
        started = time.perf_counter()
        index = OwnerIndex(conn)
        build = time.perf_counter() - started
    print(
        f"(a) bulk join, {len(index.grid_ids):,} grids, {len(index.unit_ids):,} units, "
        f"{len(points):,} points (index built in {build:.2f} s)"
    )
    best_bare, best_ours, best_units = np.inf, np.inf, np.inf
    for _ in range(3):
        t = time.perf_counter()
        shapely.STRtree(index.grid_geoms).query(points, predicate="intersects")
        best_bare = min(best_bare, time.perf_counter() - t)
        t = time.perf_counter()
        shapely.STRtree(index.unit_geoms).query(points, predicate="intersects")
        best_units = min(best_units, time.perf_counter() - t)
        t = time.perf_counter()
        owners = index.owners(None, None, points=points)  # type: ignore[arg-type]
        best_ours = min(best_ours, time.perf_counter() - t)
    inside = int((owners.status == "inside").sum())
    print(f"  bare STRtree.query, grids: {best_bare:.2f} s; units: {best_units:.2f} s")
    print(f"  OneMap owners (grid + unit + rules, {inside:,} inside): {best_ours:.2f} s")
    print(
        f"  ratio OneMap / bare grid query = {best_ours / best_bare:.2f} (goal <= 0.8); "
        f"/ bare unit query = {best_ours / best_units:.2f}"
    )
    return {"bulk_ratio": best_ours / best_bare}


if __name__ == "__main__":
    main()
