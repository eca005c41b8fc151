"""Keeping grown regions whole: when a region falls below its minimum size or into pieces,
cells are handed over from a neighbour along a path that leaves every region connected."""

from __future__ import annotations

from collections import deque

import numpy as np
from numpy.typing import NDArray

from gis.demo.cells import Cells, components


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


def repair(
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
