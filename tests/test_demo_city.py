"""The demo city: sizes, the special features, exact tiling, determinism, synthetic people."""

from __future__ import annotations

import re

import geopandas as gpd
import numpy as np
import pytest
import shapely

from gis.demo.areas import LEVELS
from gis.demo.city import CitySpec, generate_boundaries
from tests.conftest import BOUNDARIES


@pytest.fixture(scope="module")
def city() -> dict[str, gpd.GeoDataFrame]:
    return {layer: gpd.read_file(BOUNDARIES / f"{layer}.geojson") for layer in LEVELS}


def test_sizes(city: dict[str, gpd.GeoDataFrame]) -> None:
    sizes = {k: len(v) for k, v in city.items()}
    assert sizes["districts"] >= 3 and sizes["towns"] >= 12 and sizes["villages"] >= 150
    assert sizes["grids"] >= 1000 and sizes["units"] >= 4000
    for frame in city.values():
        assert frame.crs.to_epsg() == 4326
        assert frame.code.is_unique
        assert {"code", "name", "parent_code"} <= set(frame.columns)
    minx, miny, maxx, maxy = city["districts"].total_bounds
    assert 118.8 <= minx and maxx <= 119.3 and 25.2 <= miny and maxy <= 25.6


def test_town_like_jiaowei(city: dict[str, gpd.GeoDataFrame]) -> None:
    town = city["towns"].query("name == '郊尾镇'")
    assert len(town) == 1
    prefix = town.code.iloc[0][:9]
    assert (city["villages"].code.str[:9] == prefix).sum() == 21
    assert (city["grids"].code.str[:9] == prefix).sum() == 156
    assert (city["units"].code.str[:9] == prefix).sum() == 579


def test_village_in_two_parts_and_grid_with_enclave(city: dict[str, gpd.GeoDataFrame]) -> None:
    parts = shapely.get_num_geometries(city["villages"].geometry.values)
    assert (parts >= 2).sum() >= 1
    grids = city["grids"]
    holes = [(i, g) for i, g in enumerate(grids.geometry) if any(len(p.interiors) for p in g.geoms)]
    assert holes
    found_enclave = False
    for _i, g in holes:
        for poly in g.geoms:
            for ring in poly.interiors:
                hole = shapely.Polygon(ring)
                inside = grids[grids.geometry.within(hole.buffer(1e-9))]
                if len(inside) and shapely.union_all(inside.geometry.values).equals(hole):
                    found_enclave = True
    assert found_enclave, "no grid's hole is exactly filled by other grids"


def test_children_tile_parents_exactly(city: dict[str, gpd.GeoDataFrame]) -> None:
    for parent, child in zip(LEVELS, LEVELS[1:], strict=False):
        assert shapely.coverage_is_valid(np.asarray(city[child].geometry.values))
        by_parent = city[child].groupby("parent_code")
        sample = city[parent].sample(min(25, len(city[parent])), random_state=1)
        for row in sample.itertuples():
            kids = by_parent.get_group(row.code).geometry.values
            union = shapely.coverage_union_all(np.asarray(kids))
            assert union.symmetric_difference(row.geometry).area < 1e-14, (parent, row.code)


def test_shapes_are_irregular(city: dict[str, gpd.GeoDataFrame]) -> None:
    grids = city["grids"].geometry
    vertices = shapely.get_num_coordinates(grids.values)
    assert np.median(vertices) > 15  # not squares
    rect = grids.area / grids.envelope.area
    assert rect.median() < 0.8


def test_people_are_synthetic(city: dict[str, gpd.GeoDataFrame]) -> None:
    for layer in ("grids", "units"):
        assert city[layer].leader_phone.str.fullmatch(r"100-0000-\d{4}").all()
        assert city[layer].leader_name.str.fullmatch(r"[\u4e00-\u9fff]{2,3}").all()
    assert city["units"].households.min() > 0
    assert (city["units"].party_contacts <= city["units"].households).all()
    assert all(re.search(r"[\u4e00-\u9fff]", n) for n in city["villages"].name)


def test_generator_is_deterministic_and_scales() -> None:
    spec = CitySpec(grids=150, units=500, seed=7)
    a, b = generate_boundaries(spec), generate_boundaries(CitySpec(grids=150, units=500, seed=7))
    c = generate_boundaries(CitySpec(grids=150, units=500, seed=8))
    for layer in LEVELS:
        assert list(a[layer].code) == list(b[layer].code)
        assert shapely.equals_exact(a[layer].geometry.values, b[layer].geometry.values, 0).all()
    assert not a["grids"].geometry.iloc[0].equals(c["grids"].geometry.iloc[0])
    assert len(a["grids"]) >= 150 and len(a["units"]) >= 500
    assert "郊尾镇" not in set(a["towns"].name)  # too small a city for the special town


def test_committed_boundaries_match_the_generator(city: dict[str, gpd.GeoDataFrame]) -> None:
    fresh = generate_boundaries(CitySpec())
    for layer in LEVELS:
        assert list(fresh[layer].code) == list(city[layer].code)
        assert list(fresh[layer].name) == list(city[layer].name)
        assert shapely.equals_exact(
            fresh[layer].geometry.values, city[layer].geometry.values, 0
        ).all()


def test_units_and_grids_are_single_pieces(city: dict[str, gpd.GeoDataFrame]) -> None:
    for layer in ("grids", "units"):
        assert (shapely.get_num_geometries(city[layer].geometry.values) == 1).all(), layer


def test_tight_cells_are_repaired_not_refused() -> None:
    """With barely more cells than units, region growing must repair short regions."""
    spec = CitySpec(grids=120, units=600, seed=3, cells_per_unit=1.6)
    city = generate_boundaries(spec)
    assert len(city["units"]) >= 600
    for layer in LEVELS:
        geoms = np.asarray(city[layer].geometry.values)
        assert shapely.coverage_is_valid(geoms), layer
    pieces = shapely.get_num_geometries(city["units"].geometry.values)
    assert (pieces == 1).all()
