"""Region growing over the micro-cells (gis/demo/cells.py): areas of given weights grown from
spread seeds, each a connected set of whole cells, repaired where needed (gis/demo/repair.py)."""

from __future__ import annotations

import heapq

import numpy as np
from numpy.typing import NDArray

from gis.demo.cells import Cells
from gis.demo.repair import repair


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
        if repair(cells, members, labels, minimum):
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
