"""The demo city's boundaries: districts → towns → villages → grids → units, tiling exactly.

Everything is drawn from one seed. The city is a noisy blob around Putian, Fujian, with an
offshore island; it is cut into Voronoi micro-cells, denser downtown, and every area at every
level is a connected set of whole cells (see tessellate.py). Two special features are added on
purpose: an enclave grid (a grid with a hole) and a village in two parts (its island).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import shapely
from numpy.typing import NDArray

from gis.demo.areas import SPECIAL_TOWN, Area, Tree
from gis.demo.cells import Cells, components, subset, voronoi_cells
from gis.demo.names import NameMaker
from gis.demo.naming import assign_codes, frames
from gis.demo.tessellate import grow_regions

GRID_SIZE = 1e-7  # coordinates snapped to 1e-7 degrees (about 1 cm)


@dataclass
class CitySpec:
    """What to generate: sizes, seed and the box the city lies in."""

    grids: int = 1000
    units: int = 4000
    seed: int = 20240917
    bbox: tuple[float, float, float, float] = (118.8, 25.2, 119.3, 25.6)
    special_town: bool = True
    cells_per_unit: float = field(default=0.0)

    def __post_init__(self) -> None:
        if self.units < self.grids:
            raise ValueError(f"units ({self.units}) must be at least grids ({self.grids})")
        if self.grids < 12:
            raise ValueError(f"a demo city needs at least 12 grids, not {self.grids}")
        if self.special_town and self.grids < 2 * SPECIAL_TOWN[2]:
            self.special_town = False
        if not self.cells_per_unit:
            self.cells_per_unit = 5.0


def _split(total: int, parts: int, minimum: int, rng: np.random.Generator) -> list[int]:
    """`total` split into `parts` random counts of at least `minimum` each."""
    if parts * minimum > total:
        raise ValueError(f"cannot split {total} into {parts} parts of at least {minimum}")
    weights = rng.gamma(3.0, 1.0, parts)
    extra = rng.multinomial(total - parts * minimum, weights / weights.sum())
    return [minimum + int(e) for e in extra]


def plan_tree(spec: CitySpec, rng: np.random.Generator) -> tuple[Tree, tuple[int, int] | None]:
    """The nested counts of the city, and the path of the special town if there is one."""
    name, s_villages, s_grids, s_units = SPECIAL_TOWN
    grids, units = spec.grids, spec.units
    if spec.special_town:
        grids, units = grids - s_grids, units - s_units
    n_villages = max(3, round(grids / 6.5))
    n_towns = max(2, round(n_villages / 11.5))
    n_districts = max(3, round((n_towns + (1 if spec.special_town else 0)) / 4.3))
    n_districts = min(n_districts, n_towns)

    def villages(n_villages: int, n_grids: int, n_units: int) -> Tree:
        grids_per_village = _split(n_grids, n_villages, 1, rng)
        units_per_grid = _split(n_units, n_grids, 1, rng)
        out: Tree = []
        k = 0
        for g in grids_per_village:
            out.append([[[] for _ in range(u)] for u in units_per_grid[k : k + g]])
            k += g
        return out

    grids_per_town = _split(grids, n_towns, 3, rng)
    villages_per_town = _split(n_villages, n_towns, 1, rng)
    units_per_town = _split(units - grids, n_towns, 0, rng)
    towns: list[Tree] = []
    for g, v, u in zip(grids_per_town, villages_per_town, units_per_town, strict=True):
        v = min(v, g)
        towns.append(villages(v, g, u + g))
    towns_per_district = _split(n_towns, n_districts, 1, rng)
    tree: Tree = []
    k = 0
    for t in towns_per_district:
        tree.append(towns[k : k + t])
        k += t
    special = None
    if spec.special_town:
        district = int(rng.integers(n_districts))
        tree[district].append(villages(s_villages, s_grids, s_units))
        special = (district, len(tree[district]) - 1)
    return tree, special


def total_units(node: Tree) -> int:
    return 1 if not node else sum(total_units(c) for c in node)


def _blob(
    xy: NDArray[np.float64],
    centre: tuple[float, float],
    radii: tuple[float, float],
    phases: NDArray[np.float64],
) -> NDArray[np.bool_]:
    """Points inside a noisy ellipse."""
    dx = (xy[:, 0] - centre[0]) / radii[0]
    dy = (xy[:, 1] - centre[1]) / radii[1]
    theta = np.arctan2(dy, dx)
    r = (
        1
        + 0.12 * np.sin(3 * theta + phases[0])
        + 0.08 * np.sin(5 * theta + phases[1])
        + 0.04 * np.sin(11 * theta + phases[2])
    )
    return np.hypot(dx, dy) < r


def make_cells(spec: CitySpec, rng: np.random.Generator) -> tuple[Cells, NDArray[np.bool_]]:
    """Micro-cells of the mainland and the island, and which of them are the island."""
    x0, y0, x1, y1 = spec.bbox
    w, h = x1 - x0, y1 - y0
    centre = (x0 + 0.46 * w, y0 + 0.5 * h)
    radii = (0.36 * w, 0.36 * h)
    downtown = (x0 + 0.42 * w, y0 + 0.58 * h)
    island_c = (x0 + 0.92 * w, y0 + 0.09 * h)
    island_r = (0.06 * w, 0.045 * h)
    phases = rng.uniform(0, 2 * math.pi, 3)
    wanted = int(spec.units * spec.cells_per_unit)
    batches, inside = [], 0
    while inside < wanted:
        xy = np.column_stack([rng.uniform(x0, x1, 20000), rng.uniform(y0, y1, 20000)])
        d = np.hypot(xy[:, 0] - downtown[0], xy[:, 1] - downtown[1]) / (0.15 * w)
        xy = xy[rng.random(len(xy)) < 0.25 + 0.75 * np.exp(-(d**2))]
        batches.append(xy)
        inside += int(_blob(xy, centre, radii, phases).sum())
    pts = np.concatenate(batches)
    main = _blob(pts, centre, radii, phases)
    keep_n = np.flatnonzero(main)[wanted:]
    pts = np.delete(pts, keep_n, axis=0)  # exactly `wanted` mainland points
    pts = np.round(pts / GRID_SIZE) * GRID_SIZE
    pts = np.unique(pts, axis=0)
    rng.shuffle(pts)
    cells = voronoi_cells(pts, GRID_SIZE)
    main = _blob(pts, centre, radii, phases)
    island = _blob(pts, island_c, island_r, np.zeros(3)) & ~main
    mainland = components(cells, np.flatnonzero(main))[0]
    keep = np.zeros(len(pts), dtype=bool)
    keep[mainland] = True
    isl = components(cells, np.flatnonzero(island))[0]
    keep[isl] = True
    is_island = np.zeros(len(pts), dtype=bool)
    is_island[isl] = True
    return subset(cells, keep), is_island[keep]


def _height(node: Tree) -> int:
    """Levels below a node: a unit 0, a grid 1, a village 2, a town 3, a district 4."""
    return 0 if not node else 1 + max(_height(c) for c in node)


def _minimum(node: Tree, step: float) -> NDArray[np.int64]:
    """Fewest cells each child of `node` may get.

    A grid needs one cell per unit; each level above keeps `step` more per unit, so that its
    own children still have room to vary in size.
    """
    return np.array(
        [math.ceil(total_units(c) * (1 + step * max(_height(c) - 1, 0))) for c in node],
        dtype=np.int64,
    )


def carve(
    cells: Cells,
    members: NDArray[np.int64],
    node: Tree,
    path: tuple[int, ...],
    rng: np.random.Generator,
    out: dict[tuple[int, ...], Area],
    step: float,
) -> None:
    """Split `members` among the children of `node`, recursively, recording every area."""
    if not node:
        return
    weights = np.array([total_units(c) for c in node], dtype=float)
    labels = grow_regions(cells, members, weights, _minimum(node, step), rng)
    for i, child in enumerate(node):
        sub = members[labels == i]
        out[path + (i,)] = Area(path + (i,), sub)
        carve(cells, sub, child, path + (i,), rng, out, step)


def _children(areas: dict[tuple[int, ...], Area], path: tuple[int, ...]) -> list[Area]:
    return [a for p, a in areas.items() if len(p) == len(path) + 1 and p[:-1] == path]


def add_enclave(
    cells: Cells,
    areas: dict[tuple[int, ...], Area],
    avoid: tuple[int, int] | None,
    rng: np.random.Generator,
) -> tuple[int, ...]:
    """Turn one interior cell of a grid into a grid of its own: the first grid gets a hole."""
    grid_of = {}
    unit_of = {}
    for p, a in areas.items():
        for c in a.cells.tolist():
            if len(p) == 4:
                grid_of[c] = p
            elif len(p) == 5:
                unit_of[c] = p
    candidates = list(grid_of)
    rng.shuffle(candidates)
    for c in candidates:
        g = grid_of[c]
        if avoid and g[:2] == avoid:
            continue
        ring = cells.adjacent(c).tolist()
        if any(grid_of.get(n) != g for n in ring):
            continue
        second_ring = {m for n in ring for m in cells.adjacent(n).tolist()} - {c}
        if any(grid_of.get(n) != g for n in second_ring):
            continue
        u = unit_of[c]
        rest = areas[u].cells[areas[u].cells != c]
        if len(rest) == 0 or len(components(cells, rest)) != 1:
            continue
        areas[u].cells = rest
        areas[g].cells = areas[g].cells[areas[g].cells != c]
        village = g[:3]
        new_grid = village + (len(_children(areas, village)),)
        areas[new_grid] = Area(new_grid, np.array([c]))
        areas[new_grid + (0,)] = Area(new_grid + (0,), np.array([c]))
        return new_grid
    raise ValueError("no grid has an interior cell to make an enclave of")


def add_island(
    cells: Cells,
    island: NDArray[np.int64],
    areas: dict[tuple[int, ...], Area],
    avoid: tuple[int, int] | None,
    rng: np.random.Generator,
) -> tuple[int, ...]:
    """Give the island's cells to the nearest mainland village, as a grid of 3 units."""
    centre = cells.centres[island].mean(axis=0)
    best, best_d = None, math.inf
    for p, a in areas.items():
        if len(p) != 3 or (avoid and p[:2] == avoid):
            continue
        d = float(np.min(np.hypot(*(cells.centres[a.cells] - centre).T)))
        if d < best_d:
            best, best_d = p, d
    assert best is not None
    n_units = min(3, len(island))
    new_grid = best + (len(_children(areas, best)),)
    for k in range(1, 4):
        areas[new_grid[:k]].cells = np.concatenate([areas[new_grid[:k]].cells, island])
    areas[new_grid] = Area(new_grid, island)
    carve(cells, island, [[] for _ in range(n_units)], new_grid, rng, areas, 0.0)
    return best


def _multi(geom: shapely.Geometry) -> shapely.Geometry:
    return geom if geom.geom_type == "MultiPolygon" else shapely.MultiPolygon([geom])


def build_geometries(cells: Cells, areas: dict[tuple[int, ...], Area]) -> None:
    """Union cells into units, units into grids, and so on up: exact shared edges throughout."""
    children: dict[tuple[int, ...], list[Area]] = {}
    for p, a in areas.items():
        children.setdefault(p[:-1], []).append(a)
    for depth in (5, 4, 3, 2, 1):
        for p, a in areas.items():
            if len(p) != depth:
                continue
            if depth == 5:
                parts = cells.polygons[a.cells]
            else:
                parts = np.array([c.geom for c in children[p]], dtype=object)
            a.geom = _multi(shapely.coverage_union_all(parts))


def generate_boundaries(spec: CitySpec) -> dict[str, gpd.GeoDataFrame]:
    """The five boundary layers of the demo city, as GeoDataFrames in EPSG:4326."""
    rng = np.random.default_rng(spec.seed)
    tree, special = plan_tree(spec, rng)
    cells, is_island = make_cells(spec, rng)
    areas: dict[tuple[int, ...], Area] = {}
    mainland = np.flatnonzero(~is_island)
    weights = np.array([total_units(d) for d in tree], dtype=float)
    step = (spec.cells_per_unit - 1) / 16  # 0.25 for the default 5 cells per unit
    labels = grow_regions(cells, mainland, weights, _minimum(tree, step), rng)
    for i, district in enumerate(tree):
        sub = mainland[labels == i]
        areas[(i,)] = Area((i,), sub)
        carve(cells, sub, district, (i,), rng, areas, step)
    add_enclave(cells, areas, special, rng)
    add_island(cells, np.flatnonzero(is_island), areas, special, rng)
    build_geometries(cells, areas)
    names = NameMaker(rng)
    assign_codes(areas, special, rng, names)
    return frames(areas, names, rng)
