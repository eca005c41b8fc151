"""Voronoi micro-cells: the city cut once into small cells with their adjacency; every area is a
connected set of whole cells, so children tile their parent exactly by construction."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np
import shapely
from numpy.typing import NDArray


@dataclass
class Cells:
    """Voronoi cells of seed points, with their centres and adjacency (CSR arrays)."""

    polygons: NDArray[np.object_]
    centres: NDArray[np.float64]
    indptr: NDArray[np.int64]
    neighbours: NDArray[np.int64]

    def __len__(self) -> int:
        return len(self.polygons)

    def adjacent(self, i: int) -> NDArray[np.int64]:
        return self.neighbours[self.indptr[i] : self.indptr[i + 1]]


def voronoi_cells(points: NDArray[np.float64], grid_size: float) -> Cells:
    """Voronoi cells of `points` (in input order), snapped to `grid_size`, with adjacency."""
    mp = shapely.multipoints(points)
    cells = shapely.get_parts(shapely.voronoi_polygons(mp, ordered=True))
    cells = shapely.set_precision(cells, grid_size)
    edges = shapely.get_parts(shapely.delaunay_triangles(mp, only_edges=True))
    coords = shapely.get_coordinates(edges).reshape(-1, 2, 2)
    index = {(x, y): i for i, (x, y) in enumerate(points.tolist())}
    a = np.fromiter((index[(x, y)] for x, y in coords[:, 0].tolist()), dtype=np.int64)
    b = np.fromiter((index[(x, y)] for x, y in coords[:, 1].tolist()), dtype=np.int64)
    # Neighbours share an edge of some length (two vertices); snapping can shrink one to a point.
    xy, owner = shapely.get_coordinates(cells, return_index=True)
    vertices: list[set[tuple[float, float]]] = [set() for _ in range(len(cells))]
    for (x, y), i in zip(xy.tolist(), owner.tolist(), strict=True):
        vertices[i].add((x, y))
    edge = np.fromiter(
        (len(vertices[i] & vertices[j]) >= 2 for i, j in zip(a.tolist(), b.tolist(), strict=True)),
        dtype=bool,
        count=len(a),
    )
    a, b = a[edge], b[edge]
    src = np.concatenate([a, b])
    dst = np.concatenate([b, a])
    order = np.lexsort((dst, src))
    src, dst = src[order], dst[order]
    indptr = np.zeros(len(points) + 1, dtype=np.int64)
    np.add.at(indptr, src + 1, 1)
    return Cells(cells, points, np.cumsum(indptr), dst)


def subset(cells: Cells, keep: NDArray[np.bool_]) -> Cells:
    """The cells where `keep` is true, renumbered, with adjacency restricted to them."""
    new_id = np.full(len(cells), -1, dtype=np.int64)
    new_id[keep] = np.arange(int(keep.sum()))
    counts = np.diff(cells.indptr)
    src = np.repeat(np.arange(len(cells)), counts)
    dst = cells.neighbours
    ok = keep[src] & keep[dst]
    src, dst = new_id[src[ok]], new_id[dst[ok]]
    indptr = np.zeros(int(keep.sum()) + 1, dtype=np.int64)
    np.add.at(indptr, src + 1, 1)
    return Cells(cells.polygons[keep], cells.centres[keep], np.cumsum(indptr), dst)


def components(cells: Cells, members: NDArray[np.int64]) -> list[list[int]]:
    """Connected components of the cells `members` (by adjacency), largest first."""
    inside = set(members.tolist())
    seen: set[int] = set()
    out: list[list[int]] = []
    for start in members.tolist():
        if start in seen:
            continue
        comp = [start]
        seen.add(start)
        queue = deque([start])
        while queue:
            c = queue.popleft()
            for n in cells.adjacent(c).tolist():
                if n in inside and n not in seen:
                    seen.add(n)
                    comp.append(n)
                    queue.append(n)
        out.append(comp)
    out.sort(key=len, reverse=True)
    return out
