"""Reverse geocoding: the address of a point, from the nearest house number in the point's own
grid (so the address, geocoded again, lands in that grid), else the nearest building or
landmark there, else the grid itself."""

from __future__ import annotations

from typing import Any

import numpy as np

from gis.errors import OutsideCoverage
from gis.geocode.index import GazetteerIndex
from gis.geocode.levels import PRECISION
from gis.owners.levels import LEVELS


def reverse(ix: GazetteerIndex, lon: float, lat: float) -> dict[str, Any]:
    """{"address", "lon", "lat", "precision", "owner", "distance_m"} for a point in EPSG:4326;
    OutsideCoverage for a point in no grid (nor within the snap tolerance of one)."""
    loc = ix.plan.location(lon, lat)
    if loc.status == "outside" or loc.grid_id is None:
        near = loc.nearest
        raise OutsideCoverage(
            f"outside coverage: the nearest grid is {near.code}, {loc.distance_m:,.0f} m away"
            if near is not None and loc.distance_m is not None
            else "outside coverage: no grid plan is loaded",
            lon=lon,
            lat=lat,
        )
    owner = loc.as_dict()
    grid = int(np.flatnonzero(ix.plan.grid_ids == loc.grid_id)[0])
    x, y = ix.to_metric.transform(lon, lat)
    found = ix.in_grid.get(grid)
    if found is not None and len(found):
        d = np.hypot(ix.xy[found, 0] - x, ix.xy[found, 1] - y)
        best_rank = ix.rank[found].min()  # a house number if the grid has one
        pool = np.flatnonzero(ix.rank[found] == best_rank)
        k = int(found[pool[int(np.argmin(d[pool]))]])
        distance = float(d[pool].min())
    else:
        k, distance = -1, 0.0
    if k < 0:
        code = owner["grid"]["code"]
        k = ix.by_code.get(code, -1)
        if k < 0:  # a plan without a gazetteer: the grid's own name
            return {
                "address": "".join(owner[lv]["name"] for lv in LEVELS[:4] if owner[lv]),
                "lon": lon,
                "lat": lat,
                "precision": PRECISION["grid"],
                "owner": {lv: owner[lv] for lv in LEVELS},
                "distance_m": 0.0,
            }
        distance = float(np.hypot(ix.xy[k, 0] - x, ix.xy[k, 1] - y))
    return {
        "address": ix.address(k),
        "lon": round(float(ix.lon[k]), 7),
        "lat": round(float(ix.lat[k]), 7),
        "precision": PRECISION[ix.level[k]],
        "owner": {lv: owner[lv] for lv in LEVELS},
        "distance_m": round(distance, 1),
    }
