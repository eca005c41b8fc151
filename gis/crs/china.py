"""GCJ-02 (AMap, Tencent) and BD-09 (Baidu) coordinates: forward and inverse, vectorised.

No PROJ definition exists for these obfuscated systems and the PyPI packages that do it are
small, unmaintained and scalar, so the published algorithm is written here over numpy arrays.
Forward transforms are the well-known closed forms (Krasovsky 1940 constants); the inverses
are solved by fixed-point iteration on the forward transform, to well under 1 cm.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

A = 6378245.0  # Krasovsky 1940 semi-major axis, as used by GCJ-02
EE = 0.00669342162296594323  # its first eccentricity squared
X_PI = np.pi * 3000.0 / 180.0
Arr = NDArray[np.float64]


def in_china(lon: ArrayLike, lat: ArrayLike) -> NDArray[np.bool_]:
    """Where GCJ-02 applies an offset (outside this box it is plain WGS 84)."""
    lon, lat = np.asarray(lon, float), np.asarray(lat, float)
    return (lon > 73.66) & (lon < 135.05) & (lat > 3.86) & (lat < 53.55)


def _offsets(lon: Arr, lat: Arr) -> tuple[Arr, Arr]:
    x, y = lon - 105.0, lat - 35.0
    common = (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    dlat = (
        -100.0
        + 2.0 * x
        + 3.0 * y
        + 0.2 * y * y
        + 0.1 * x * y
        + 0.2 * np.sqrt(np.abs(x))
        + common
        + (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
        + (160.0 * np.sin(y / 12.0 * np.pi) + 320.0 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0
    )
    dlon = (
        300.0
        + x
        + 2.0 * y
        + 0.1 * x * x
        + 0.1 * x * y
        + 0.1 * np.sqrt(np.abs(x))
        + common
        + (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
        + (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0
    )
    rad = lat / 180.0 * np.pi
    magic = 1 - EE * np.sin(rad) ** 2
    sqrt_magic = np.sqrt(magic)
    dlat = (dlat * 180.0) / ((A * (1 - EE)) / (magic * sqrt_magic) * np.pi)
    dlon = (dlon * 180.0) / (A / sqrt_magic * np.cos(rad) * np.pi)
    return dlon, dlat


def wgs84_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> tuple[Arr, Arr]:
    """WGS 84 (EPSG:4326) to GCJ-02."""
    lon, lat = np.asarray(lon, float), np.asarray(lat, float)
    dlon, dlat = _offsets(lon, lat)
    inside = in_china(lon, lat)
    return np.where(inside, lon + dlon, lon), np.where(inside, lat + dlat, lat)


def gcj02_to_bd09(lon: ArrayLike, lat: ArrayLike) -> tuple[Arr, Arr]:
    """GCJ-02 to BD-09."""
    lon, lat = np.asarray(lon, float), np.asarray(lat, float)
    z = np.sqrt(lon * lon + lat * lat) + 0.00002 * np.sin(lat * X_PI)
    theta = np.arctan2(lat, lon) + 0.000003 * np.cos(lon * X_PI)
    return z * np.cos(theta) + 0.0065, z * np.sin(theta) + 0.006


def wgs84_to_bd09(lon: ArrayLike, lat: ArrayLike) -> tuple[Arr, Arr]:
    """WGS 84 to BD-09 (through GCJ-02)."""
    return gcj02_to_bd09(*wgs84_to_gcj02(lon, lat))


def _invert(forward, x: ArrayLike, y: ArrayLike) -> tuple[Arr, Arr]:  # type: ignore[no-untyped-def]
    """Solve forward(lon, lat) = (x, y) by fixed-point iteration (the offsets vary slowly)."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    lon, lat = x.copy(), y.copy()
    for _ in range(30):
        fx, fy = forward(lon, lat)
        ex, ey = fx - x, fy - y
        lon, lat = lon - ex, lat - ey
        if np.nanmax(np.abs(np.concatenate([np.ravel(ex), np.ravel(ey)])), initial=0) < 1e-10:
            break
    return lon, lat


def gcj02_to_wgs84(lon: ArrayLike, lat: ArrayLike) -> tuple[Arr, Arr]:
    """GCJ-02 to WGS 84, exact to about 1e-10 degrees (well under a millimetre)."""
    return _invert(wgs84_to_gcj02, lon, lat)


def bd09_to_wgs84(lon: ArrayLike, lat: ArrayLike) -> tuple[Arr, Arr]:
    """BD-09 to WGS 84, exact to about 1e-10 degrees."""
    return _invert(wgs84_to_bd09, lon, lat)


def bd09_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> tuple[Arr, Arr]:
    """BD-09 to GCJ-02."""
    return _invert(gcj02_to_bd09, lon, lat)
