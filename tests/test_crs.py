"""CRS parsing and the GCJ-02 / BD-09 transforms, against published reference values."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pyproj import Geod

from gis.crs import china as chinacrs
from gis.crs.systems import BD09, GCJ02, from_storage, parse_crs, to_storage
from gis.errors import InvalidCRS

GEOD = Geod(ellps="WGS84")

# (wgs lon, wgs lat, gcj lon, gcj lat): eviltransform's tests (Shanghai, Shenzhen, Beijing)
# and wandergis/coordtransform's README example.
WGS_GCJ = [
    (121.5272106, 31.1774276, 121.531541859215, 31.17530398364597),
    (113.912316, 22.543847, 113.9171764808363, 22.540796131694766),
    (116.377817, 39.911954, 116.38404722455657, 39.91334545536069),
    (116.404, 39.915, 116.41024449916938, 39.91640428150164),
]
# (gcj lon, gcj lat, bd lon, bd lat): coordtransform's gcj02tobd09 example.
GCJ_BD = [(116.404, 39.915, 116.41036949371029, 39.92133699351021)]
# (bd lon, bd lat, gcj lon, gcj lat): coordtransform's bd09togcj02 (its closed-form inverse,
# good to a few centimetres; ours iterates to the exact inverse).
BD_GCJ = [(116.404, 39.915, 116.39762729119315, 39.90865673957631)]


def metres(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    return float(GEOD.inv(lon1, lat1, lon2, lat2)[2])


@pytest.mark.parametrize(("lon", "lat", "glon", "glat"), WGS_GCJ)
def test_wgs84_to_gcj02_reference(lon: float, lat: float, glon: float, glat: float) -> None:
    x, y = chinacrs.wgs84_to_gcj02(lon, lat)
    assert abs(x - glon) < 1e-9 and abs(y - glat) < 1e-9
    back = chinacrs.gcj02_to_wgs84(glon, glat)
    assert metres(lon, lat, *back) < 0.01


@pytest.mark.parametrize(("lon", "lat", "blon", "blat"), GCJ_BD)
def test_gcj02_to_bd09_reference(lon: float, lat: float, blon: float, blat: float) -> None:
    x, y = chinacrs.gcj02_to_bd09(lon, lat)
    assert abs(x - blon) < 1e-9 and abs(y - blat) < 1e-9


@pytest.mark.parametrize(("blon", "blat", "glon", "glat"), BD_GCJ)
def test_bd09_to_gcj02_reference(blon: float, blat: float, glon: float, glat: float) -> None:
    x, y = chinacrs.bd09_to_gcj02(blon, blat)
    assert metres(x, y, glon, glat) < 0.1


china = st.tuples(st.floats(73.7, 135.0), st.floats(18.0, 53.5))


@settings(max_examples=300, deadline=None)
@given(china)
def test_inverses_are_exact_to_half_a_metre(p: tuple[float, float]) -> None:
    lon, lat = p
    for fwd, inv in (
        (chinacrs.wgs84_to_gcj02, chinacrs.gcj02_to_wgs84),
        (chinacrs.wgs84_to_bd09, chinacrs.bd09_to_wgs84),
    ):
        x, y = fwd(lon, lat)
        assert metres(lon, lat, x, y) > 1  # there is an offset to undo
        assert metres(lon, lat, *inv(x, y)) < 0.5
        assert metres(lon, lat, *inv(x, y)) < 0.001  # in fact far better


def test_vectorised_and_outside_china() -> None:
    lon = np.array([119.0, 119.1, 2.35])
    lat = np.array([25.4, 25.5, 48.85])  # the last is Paris: no offset there
    x, y = chinacrs.wgs84_to_gcj02(lon, lat)
    assert x.shape == (3,) and x[2] == 2.35 and y[2] == 48.85
    assert x[0] != 119.0


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (None, 4326),
        ("", 4326),
        ("EPSG:4326", 4326),
        ("epsg:4490", 4490),
        ("4549", 4549),
        ("CGCS2000", 4490),
        ("gcj02", GCJ02),
        ("GCJ-02", GCJ02),
        ("bd-09", BD09),
        ("BD09", BD09),
        ("urn:ogc:def:crs:EPSG::4326", 4326),
        ("EPSG:4513", 4513),
        ("EPSG:4554", 4554),
    ],
)
def test_parse_crs(text: str | None, expected: object) -> None:
    assert parse_crs(text) == expected


@pytest.mark.parametrize("text", ["EPSG:3857", "EPSG:4512", "EPSG:4555", "mars", "EPSG:", "4326x"])
def test_parse_crs_refuses(text: str) -> None:
    with pytest.raises(InvalidCRS) as info:
        parse_crs(text)
    assert text.strip() in str(info.value) or "EPSG:" in str(info.value)
    assert "GCJ02" in str(info.value)


@settings(max_examples=100, deadline=None)
@given(
    st.floats(118.8, 119.3), st.floats(25.2, 25.6), st.sampled_from([4490, 4549, 4527, GCJ02, BD09])
)
def test_to_and_from_storage_round_trip(lon: float, lat: float, crs: object) -> None:
    x, y = from_storage(np.array([lon]), np.array([lat]), crs)  # type: ignore[arg-type]
    lon2, lat2 = to_storage(x, y, crs)  # type: ignore[arg-type]
    assert metres(lon, lat, float(lon2[0]), float(lat2[0])) < 0.01
