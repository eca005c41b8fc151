"""Checks on incoming coordinates: convert to EPSG:4326, refuse swapped or far-away points."""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from sqlalchemy.engine import Connection, Engine

from gis.crs.systems import InputCRS, crs_name, is_lonlat, is_storage, to_storage
from gis.owners.extent import Extent, city_extent
from gis.store.settings import get_settings

_EXTENT_TTL_S = 10.0
_extents: dict[str, tuple[float, Extent]] = {}


def cached_extent(bind: Connection | Engine) -> Extent:
    """The city's extent (with the configured margin), re-read at most every 10 s."""
    engine = bind if isinstance(bind, Engine) else bind.engine
    key = str(engine.url)
    now = time.monotonic()
    hit = _extents.get(key)
    if hit and now - hit[0] < _EXTENT_TTL_S:
        return hit[1]
    if isinstance(bind, Engine):
        with bind.connect() as conn:
            extent = city_extent(conn, get_settings().extent_margin_m)
    else:
        extent = city_extent(bind, get_settings().extent_margin_m)
    _extents[key] = (now, extent)
    return extent


@dataclass
class Checked:
    """Points in EPSG:4326 and, for each, None or the reason it was refused."""

    lon: NDArray[np.float64]
    lat: NDArray[np.float64]
    problems: list[str | None]


def check_points(
    x: NDArray[np.float64], y: NDArray[np.float64], crs: InputCRS, extent: Extent
) -> Checked:
    """Convert (x, y) in `crs` to lon/lat and say which points cannot be right."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if len(x) == 1 and is_storage(crs):  # the single lon/lat of GET /locate: plain floats
        a, b = float(x[0]), float(y[0])
        if extent.minx <= a <= extent.maxx and extent.miny <= b <= extent.maxy:
            return Checked(x, y, [None])
    finite = np.isfinite(x) & np.isfinite(y)
    lon, lat = to_storage(np.where(finite, x, 0.0), np.where(finite, y, 0.0), crs)
    inside = (
        finite
        & (lon >= extent.minx)
        & (lon <= extent.maxx)
        & (lat >= extent.miny)
        & (lat <= extent.maxy)
    )
    sx, sy = (
        to_storage(np.where(finite, y, 0.0), np.where(finite, x, 0.0), crs)
        if is_lonlat(crs)
        else (lon, lat)
    )
    swapped = (
        finite
        & ~inside
        & (sx >= extent.minx)
        & (sx <= extent.maxx)
        & (sy >= extent.miny)
        & (sy <= extent.maxy)
    )
    problems: list[str | None] = [None] * len(x)
    for i in np.flatnonzero(~inside).tolist():
        if not finite[i]:
            problems[i] = "coordinates must be finite numbers"
        elif swapped[i] and is_lonlat(crs):
            problems[i] = (
                f"({x[i]:g}, {y[i]:g}) looks swapped (lat, lon): give longitude "
                "first, then latitude"
            )
        else:
            problems[i] = (
                f"({x[i]:g}, {y[i]:g}) in {crs_name(crs)} is outside "
                f"{extent.describe()}; check the coordinates and the crs"
            )
    return Checked(lon, lat, problems)
