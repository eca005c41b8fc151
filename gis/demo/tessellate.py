"""Micro-cells and region growing: the building blocks of gap-free, overlap-free boundaries.

The city is cut into small Voronoi cells once; every area at every level (district down to
unit) is a connected set of whole cells, so children tile their parent exactly by
construction and irregular shapes come for free.
"""

from __future__ import annotations

import heapq
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


def spread_seeds(
    centres: NDArray[np.float64], k: int, rng: np.random.Generator
) -> NDArray[np.int64]:
    """k well-spread members (farthest-point sampling from a random start)."""
    n = len(centres)
    chosen = [int(rng.integers(n))]
    dist = np.hypot(*(centres - centres[chosen[0]]).T)
    for _ in range(1, k):
        nxt = int(np.argmax(dist * rng.uniform(0.85, 1.0, n)))
        chosen.append(nxt)
        dist = np.minimum(dist, np.hypot(*(centres - centres[nxt]).T))
    return np.array(chosen, dtype=np.int64)


def grow_regions(
    cells: Cells,
    members: NDArray[np.int64],
    weights: NDArray[np.float64],
    minimum: NDArray[np.int64],
    rng: np.random.Generator,
    roughness: float = 0.6,
    attempts: int = 30,
) -> NDArray[np.int64]:
    """Split the connected cells `members` into len(weights) connected regions.

    Regions grow from spread seeds, the least-filled (size / weight) first, each taking the
    frontier cell nearest its seed with noise (`roughness`) for irregular edges. Region i
    gets at least minimum[i] cells or the split is tried again with other seeds.
    Returns the region label of each member, in the order of `members`.
    """
    k = len(weights)
    if k == 1:
        return np.zeros(len(members), dtype=np.int64)
    if minimum.sum() > len(members):
        raise ValueError(f"{len(members)} cells cannot hold {k} regions of {minimum.sum()} cells")
    best_short = None
    for _ in range(attempts):
        labels = _grow_once(cells, members, weights, rng, roughness)
        if _repair(cells, members, labels, minimum):
            return labels
        short = int(np.maximum(minimum - np.bincount(labels, minlength=k), 0).sum())
        best_short = short if best_short is None else min(short, best_short)
    raise ValueError(
        f"could not split {len(members)} cells into {k} regions "
        f"with enough cells each (short by {best_short} cells)"
    )


def _grow_once(
    cells: Cells,
    members: NDArray[np.int64],
    weights: NDArray[np.float64],
    rng: np.random.Generator,
    roughness: float,
) -> NDArray[np.int64]:
    """One round of region growing from fresh seeds (see grow_regions)."""
    k = len(weights)
    local = {c: i for i, c in enumerate(members.tolist())}
    centres = cells.centres[members]
    labels = np.full(len(members), -1, dtype=np.int64)
    seeds = spread_seeds(centres, k, rng)
    sizes = np.ones(k)
    frontiers: list[list[tuple[float, int]]] = [[] for _ in range(k)]

    def push(region: int, cell_local: int) -> None:
        seed_xy = centres[seeds[region]]
        for n in cells.adjacent(int(members[cell_local])).tolist():
            j = local.get(n)
            if j is not None and labels[j] < 0:
                d = float(np.hypot(*(centres[j] - seed_xy)))
                heapq.heappush(frontiers[region], (d * (1 + roughness * rng.random()), j))

    for r, s in enumerate(seeds.tolist()):
        labels[s] = r
    for r, s in enumerate(seeds.tolist()):
        push(r, s)
    queue = [(1 / weights[r], rng.random(), r) for r in range(k)]
    heapq.heapify(queue)
    while queue:
        _, _, r = heapq.heappop(queue)
        frontier = frontiers[r]
        while frontier and labels[frontier[0][1]] >= 0:
            heapq.heappop(frontier)
        if not frontier:
            continue
        _, j = heapq.heappop(frontier)
        labels[j] = r
        sizes[r] += 1
        push(r, j)
        heapq.heappush(queue, (sizes[r] / weights[r], rng.random(), r))
    if (labels < 0).any():
        raise ValueError("region growing left cells unassigned: the parent is not connected")
    return labels


def _removable(cells: Cells, cell: int, region_of: dict[int, int], q: int) -> bool:
    """True when taking `cell` out of region q cannot split q (a local, sufficient test).

    Around a Voronoi cell its neighbours lie in a ring; if q's neighbours form one unbroken
    arc of that ring, q's remaining cells stay joined around the removed one.
    """
    ring = cells.adjacent(cell)
    if len(ring) < 3:
        return False
    d = cells.centres[ring] - cells.centres[cell]
    order = ring[np.argsort(np.arctan2(d[:, 1], d[:, 0]))].tolist()
    inside = [region_of.get(n) == q for n in order]
    if not any(inside):
        return False
    pairs = list(zip(range(len(order)), list(range(1, len(order))) + [0], strict=True))
    changes = sum(1 for a, b in pairs if inside[a] != inside[b])
    if changes != 2:
        return False
    # The arc must be joined by itself: consecutive members adjacent to each other.
    return all(
        order[b] in set(cells.adjacent(order[a]).tolist())
        for a, b in pairs
        if inside[a] and inside[b]
    )


def _still_joined(
    cells: Cells, members: NDArray[np.int64], labels: NDArray[np.int64], j: int
) -> bool:
    """True when member j's region stays connected without it (a full search)."""
    rest = np.flatnonzero(labels == labels[j])
    rest = rest[rest != j]
    return len(rest) > 0 and len(components(cells, members[rest])) == 1


def _repair(
    cells: Cells,
    members: NDArray[np.int64],
    labels: NDArray[np.int64],
    minimum: NDArray[np.int64],
) -> bool:
    """Move edge cells into regions below their minimum, keeping every region connected.

    For a short region, the nearest region with cells to spare is found in the graph of
    touching regions, and one cell is passed along that path: each region on it hands a
    cell on its shared edge to the one before, so only the two ends change size.
    Changes `labels` in place; True when every region has its minimum.
    """
    sizes = np.bincount(labels, minlength=len(minimum))
    deficit = int(np.maximum(minimum - sizes, 0).sum())
    if deficit == 0:
        return True
    local = {c: i for i, c in enumerate(members.tolist())}
    region_of = dict(zip(members.tolist(), labels.tolist(), strict=True))
    src = np.repeat(np.arange(len(members)), [len(cells.adjacent(int(c))) for c in members])
    dst_cells = np.concatenate([cells.adjacent(int(c)) for c in members])
    dst = np.array([local.get(int(c), -1) for c in dst_cells.tolist()], dtype=np.int64)
    src, dst = src[dst >= 0], dst[dst >= 0]
    recent: deque[tuple[int, int]] = deque(maxlen=8)  # moves not to undo straight away
    for _ in range(10 * deficit + 10):
        short = np.flatnonzero(sizes < minimum)
        if not len(short):
            return True
        path = _path_to_spare(labels, sizes, minimum, src, dst, int(short[0]), set(recent))
        if path is None:
            path = _path_to_spare(labels, sizes, minimum, src, dst, int(short[0]), set())
        if path is None:
            return False
        for taker, giver in reversed(list(zip(path, path[1:], strict=False))):
            if not _hand_over(cells, members, labels, region_of, local, src, dst, giver, taker):
                return False
            recent.append((taker, giver))
            sizes = np.bincount(labels, minlength=len(minimum))
    return False


def _path_to_spare(
    labels: NDArray[np.int64],
    sizes: NDArray[np.int64],
    minimum: NDArray[np.int64],
    src: NDArray[np.int64],
    dst: NDArray[np.int64],
    start: int,
    recent: set[tuple[int, int]],
) -> list[int] | None:
    """Regions from `start` to the nearest one with a cell to spare, through touching regions.

    A region does not take back from a region it just gave to (`recent` holds (taker, giver)).
    """
    a, b = labels[src], labels[dst]
    pairs = np.unique(np.column_stack([a[a != b], b[a != b]]), axis=0)
    touching: dict[int, list[int]] = {}
    for x, y in pairs.tolist():
        touching.setdefault(x, []).append(y)
    previous = {start: start}
    queue = deque([start])
    while queue:
        x = queue.popleft()
        if x != start and sizes[x] > minimum[x]:
            path = [x]
            while path[-1] != start:
                path.append(previous[path[-1]])
            return path[::-1]
        for y in touching.get(x, []):
            if y not in previous and (y, x) not in recent:
                previous[y] = x
                queue.append(y)
    return None


def _hand_over(
    cells: Cells,
    members: NDArray[np.int64],
    labels: NDArray[np.int64],
    region_of: dict[int, int],
    local: dict[int, int],
    src: NDArray[np.int64],
    dst: NDArray[np.int64],
    giver: int,
    taker: int,
) -> bool:
    """Move one cell on the giver's edge with the taker to the taker, keeping both joined.

    When every such cell holds the giver together, the cell goes with the pieces it would
    cut off (they all touch it, so the taker stays joined and the giver keeps its largest part).
    """
    on_edge = np.unique(src[(labels[src] == giver) & (labels[dst] == taker)])
    if not len(on_edge):
        return False
    chosen = next(
        ([j] for j in on_edge.tolist() if _removable(cells, int(members[j]), region_of, giver)),
        None,
    )
    if chosen is None:  # the local test is strict; a full search on a few candidates
        chosen = next(
            ([j] for j in on_edge[:3].tolist() if _still_joined(cells, members, labels, j)), None
        )
    if chosen is None:
        j = int(on_edge[0])
        rest = np.flatnonzero(labels == giver)
        pieces = components(cells, members[rest[rest != j]])
        chosen = [j, *(local[int(c)] for piece in pieces[1:] for c in piece)]
    for j in chosen:
        labels[j] = taker
        region_of[int(members[j])] = taker
    return True
