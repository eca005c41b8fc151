"""The demo city's areas while they are generated: the plan tree and one record per area."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
from numpy.typing import NDArray

LEVELS = ("districts", "towns", "villages", "grids", "units")
SPECIAL_TOWN = ("郊尾镇", 21, 156, 579)  # name, villages, grids, units (from the source reports)
Tree = list  # a node is the list of its children; a unit is the empty list


@dataclass
class Area:
    """One generated area: its path in the tree, its cells and, later, geometry and code."""

    path: tuple[int, ...]
    cells: NDArray[np.int64]
    geom: shapely.Geometry | None = None
    code: str = ""
    name: str = ""
