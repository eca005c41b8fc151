"""Coordinate reference systems accepted on the way in, and the transforms to EPSG:4326."""

from __future__ import annotations

import re
from functools import lru_cache

import numpy as np
from numpy.typing import NDArray
from pyproj import CRS, Transformer
from pyproj.exceptions import CRSError

from gis.crs import china as chinacrs
from gis.errors import InvalidCRS

STORAGE_EPSG = 4326
CGCS2000 = 4490
GCJ02 = "GCJ02"  # AMap, Tencent
BD09 = "BD09"  # Baidu
GK_ZONES = range(4513, 4555)  # CGCS2000 3-degree Gauss-Krüger zones (with and without prefix)
ACCEPTED = (
    "EPSG:4326, EPSG:4490 (CGCS2000), a CGCS2000 3-degree Gauss-Krüger zone EPSG:4513-4554, "
    "GCJ02 (AMap, Tencent) or BD09 (Baidu)"
)

InputCRS = int | str
"""An EPSG code, or GCJ02 / BD09 for the Chinese web-map systems."""

_ALIASES: dict[str, InputCRS] = {
    "WGS84": 4326,
    "WGS 84": 4326,
    "CRS84": 4326,
    "OGC:CRS84": 4326,
    "CGCS2000": 4490,
    "GCJ02": GCJ02,
    "GCJ-02": GCJ02,
    "BD09": BD09,
    "BD-09": BD09,
}


def crs_name(crs: InputCRS) -> str:
    """How a CRS is written in messages and parameters: EPSG:4326, GCJ02, BD09."""
    return crs if isinstance(crs, str) else f"EPSG:{crs}"


def parse_crs(text: str | int | None) -> InputCRS:
    """The CRS named 'EPSG:4490', '4326', 'CGCS2000', 'gcj-02', 'BD09' … (case-insensitive)."""
    if text is None or (isinstance(text, str) and not text.strip()):
        return STORAGE_EPSG
    raw = str(text).strip()
    if raw.upper() in _ALIASES:
        return _ALIASES[raw.upper()]
    m = re.fullmatch(r"(?:EPSG:)?(\d{4,5})", raw, flags=re.IGNORECASE)
    if not m:
        m = re.fullmatch(r"urn:ogc:def:crs:EPSG:[\d.]*:(\d{4,5})", raw, flags=re.IGNORECASE)
    if not m:
        raise InvalidCRS(f"unknown CRS {raw!r}: use {ACCEPTED}")
    code = int(m.group(1))
    if code not in (STORAGE_EPSG, CGCS2000) and code not in GK_ZONES:
        raise InvalidCRS(f"CRS EPSG:{code} is not accepted: use {ACCEPTED}")
    return code


def epsg_of(crs: CRS | None) -> int | None:
    """The EPSG code of a pyproj CRS read from a file (None when it has none)."""
    if crs is None:
        return None
    try:
        code = crs.to_epsg(min_confidence=70)
    except CRSError:
        code = None
    if (
        code is None
        and crs.is_geographic
        and crs.ellipsoid
        and crs.ellipsoid.name in ("WGS 84", "CGCS2000", "GRS 1980")
    ):
        return STORAGE_EPSG
    if code is None:
        raise InvalidCRS(
            f"the file's CRS ({crs.name}) has no EPSG code; reproject it to {ACCEPTED}"
        )
    return int(code)


def is_lonlat(crs: InputCRS) -> bool:
    """True for the geographic CRSs (degrees), False for projected ones (metres)."""
    return crs in (STORAGE_EPSG, CGCS2000, GCJ02, BD09)


def is_storage(crs: InputCRS) -> bool:
    """True when coordinates need no conversion (EPSG:4326, or CGCS2000 taken as equal)."""
    return crs in (STORAGE_EPSG, CGCS2000)


@lru_cache(maxsize=64)
def transformer(src_epsg: int, dst_epsg: int) -> Transformer:
    """A cached pyproj transformer with x=lon/easting, y=lat/northing order."""
    return Transformer.from_crs(src_epsg, dst_epsg, always_xy=True)


def to_storage(
    x: NDArray[np.float64], y: NDArray[np.float64], crs: InputCRS
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Coordinates in `crs` to EPSG:4326 (CGCS2000 is taken as equal to it)."""
    if is_storage(crs):
        return np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if crs == GCJ02:
        return chinacrs.gcj02_to_wgs84(x, y)
    if crs == BD09:
        return chinacrs.bd09_to_wgs84(x, y)
    assert isinstance(crs, int)
    lon, lat = transformer(crs, CGCS2000).transform(x, y)
    return np.asarray(lon), np.asarray(lat)


def from_storage(
    lon: NDArray[np.float64], lat: NDArray[np.float64], crs: InputCRS
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """EPSG:4326 coordinates to `crs` (the inverse of to_storage)."""
    if is_storage(crs):
        return np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    if crs == GCJ02:
        return chinacrs.wgs84_to_gcj02(lon, lat)
    if crs == BD09:
        return chinacrs.wgs84_to_bd09(lon, lat)
    assert isinstance(crs, int)
    x, y = transformer(CGCS2000, crs).transform(lon, lat)
    return np.asarray(x), np.asarray(y)


def local_metric_epsg(lon: float) -> int:
    """The CGCS2000 3-degree Gauss-Krüger zone (central meridian, no prefix) for a longitude."""
    cm = int(round(lon / 3.0)) * 3
    cm = min(max(cm, 75), 135)
    return 4534 + (cm - 75) // 3
