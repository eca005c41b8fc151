"""Ownership: PostGIS, the in-process index and geopandas.sjoin agree, edges included."""

from __future__ import annotations

from collections.abc import Iterator

import geopandas as gpd
import numpy as np
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.engine import Connection, Engine

from gis.io.export import read_layer
from gis.owners.index import OwnerIndex
from gis.owners.locate import locate_point

NEAR = 1e-9  # degrees: closer than this to a grid edge, floating point may go either way


@pytest.fixture(scope="module")
def conn(demo_ro: Engine) -> Iterator[Connection]:
    with demo_ro.connect() as c:
        yield c


@pytest.fixture(scope="module")
def index(conn: Connection) -> OwnerIndex:
    return OwnerIndex(conn)


@pytest.fixture(scope="module")
def grids(demo_ro: Engine) -> gpd.GeoDataFrame:
    return read_layer(demo_ro, "grids")


def _point_strategy(grids: gpd.GeoDataFrame) -> st.SearchStrategy[tuple[float, float]]:
    geoms = np.asarray(grids.geometry.values)
    minx, miny, maxx, maxy = grids.total_bounds

    def vertex(ij: tuple[int, float]) -> tuple[float, float]:
        coords = shapely.get_coordinates(geoms[ij[0] % len(geoms)])
        x, y = coords[int(ij[1] * (len(coords) - 1))]
        return float(x), float(y)

    def on_edge(ij: tuple[int, float]) -> tuple[float, float]:
        ring = shapely.boundary(geoms[ij[0] % len(geoms)])
        p = shapely.line_interpolate_point(ring, ij[1], normalized=True)
        return float(shapely.get_x(p)), float(shapely.get_y(p))

    def offshore(ij: tuple[int, float]) -> tuple[float, float]:
        x, y = vertex(ij)
        return x + 0.0003 * np.cos(ij[0]), y + 0.0003 * np.sin(ij[0])  # ~30 m away

    pick = st.tuples(st.integers(0, 10**6), st.floats(0, 1))
    anywhere = st.tuples(st.floats(minx - 0.02, maxx + 0.02), st.floats(miny - 0.02, maxy + 0.02))
    return st.one_of(anywhere, pick.map(vertex), pick.map(on_edge), pick.map(offshore))


def _check(
    point: tuple[float, float], conn: Connection, index: OwnerIndex, grids: gpd.GeoDataFrame
) -> None:
    lon, lat = point
    p = shapely.Point(lon, lat)
    joined = gpd.sjoin(gpd.GeoDataFrame(geometry=[p], crs=4326), grids, predicate="intersects")
    covering = sorted(joined["code"])
    near_edge = bool(
        shapely.dwithin(shapely.boundary(np.asarray(grids.geometry.values)), p, NEAR).any()
    )
    a = locate_point(conn, lon, lat)
    b = index.location(lon, lat)
    if covering:  # the in-process index answers exactly as GEOS and sjoin do
        assert b.status == "inside" and b.grid is not None
        assert b.grid.code == covering[0]
        assert b.on_boundary == (len(covering) > 1)
        assert b.unit is not None and b.unit.code.startswith(b.grid.code)
    if near_edge:  # PostGIS's own point-in-polygon may round the other way; both in reach
        if a.status == "inside":
            assert a.grid is not None
            near = grids[shapely.dwithin(np.asarray(grids.geometry.values), p, NEAR)]
            assert a.grid.code in set(near["code"])
        return
    assert a.status == b.status
    assert (a.grid and a.grid.code) == (b.grid and b.grid.code)
    assert (a.unit and a.unit.code) == (b.unit and b.unit.code)
    assert a.on_boundary == b.on_boundary
    assert (a.nearest and a.nearest.code) == (b.nearest and b.nearest.code)
    if a.distance_m is not None:
        assert b.distance_m is not None
        assert abs(a.distance_m - b.distance_m) <= 0.002 * a.distance_m + 0.05
    assert a.as_dict() == {**b.as_dict(), "distance_m": a.as_dict()["distance_m"]}


def test_engines_agree_on_random_points(
    conn: Connection, index: OwnerIndex, grids: gpd.GeoDataFrame
) -> None:
    @settings(
        max_examples=400,
        deadline=None,
        derandomize=True,
        suppress_health_check=[HealthCheck.too_slow],
    )
    @given(_point_strategy(grids))
    def run(point: tuple[float, float]) -> None:
        _check(point, conn, index, grids)

    run()


def test_shared_vertex_goes_to_lowest_code(
    conn: Connection, index: OwnerIndex, grids: gpd.GeoDataFrame
) -> None:
    geoms = np.asarray(grids.geometry.values)
    coords, owner = shapely.get_coordinates(geoms, return_index=True)
    keys, counts = np.unique(coords, axis=0, return_counts=True)
    triple = keys[np.flatnonzero(counts >= 3)[0]]  # a vertex where three or more grids meet
    lon, lat = float(triple[0]), float(triple[1])
    sharing = sorted(set(grids["code"].to_numpy()[owner[(coords == triple).all(axis=1)]]))
    assert len(sharing) >= 2
    for loc in (locate_point(conn, lon, lat), index.location(lon, lat)):
        assert loc.status == "inside" and loc.on_boundary
        assert loc.grid is not None and loc.grid.code == sharing[0]


def test_snapping_and_outside(conn: Connection, index: OwnerIndex, grids: gpd.GeoDataFrame) -> None:
    city = shapely.union_all(np.asarray(grids.geometry.values))
    minx, miny, maxx, maxy = city.bounds
    west = shapely.Point(minx, (miny + maxy) / 2)
    edge = shapely.get_point(shapely.shortest_line(city, west), 0)
    for offset_deg, status in ((0.0002, "snapped"), (0.002, "outside")):
        lon, lat = edge.x - offset_deg, edge.y
        for loc in (locate_point(conn, lon, lat), index.location(lon, lat)):
            assert loc.status == status, (offset_deg, loc)
            assert loc.distance_m is not None and loc.distance_m > 0
            if status == "snapped":
                assert loc.distance_m <= 50 and loc.grid is not None and loc.unit is not None
                assert loc.village is not None and loc.district is not None
            else:
                assert loc.distance_m > 50 and loc.grid is None and loc.nearest is not None
    lon, lat = edge.x - 0.002, edge.y
    assert locate_point(conn, lon, lat, tolerance_m=500).status == "snapped"
    assert index.location(lon, lat, tolerance_m=500).status == "snapped"


def test_personal_fields_only_on_request(conn: Connection) -> None:
    loc = locate_point(conn, 119.01, 25.43)
    public = loc.as_dict()
    assert "leader" not in str(public) and "100-0000" not in str(public)
    private = loc.as_dict(personal=True)
    assert private["grid"]["leader"]["phone"].startswith("100-0000")
