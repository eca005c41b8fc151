"""The answer to "who owns this point": the chain district → town → village → grid → unit, for
one point (Location) or many (Owners arrays, and the columns of their table)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from gis.owners.levels import LEVELS

Status = Literal["inside", "snapped", "outside"]
DEFAULT_TOLERANCE_M = 50.0


@dataclass(frozen=True)
class Named:
    """A governance area as the public knows it: code and name."""

    code: str
    name: str


@dataclass(frozen=True)
class Leader:
    """A grid's or unit's leader (personal data: only for roles that may see it)."""

    name: str | None
    phone: str | None


@dataclass
class Location:
    """Where a point falls: its owners, how it was decided, and how far it was snapped."""

    lon: float
    lat: float
    status: Status
    grid_id: int | None = None
    unit_id: int | None = None
    district: Named | None = None
    town: Named | None = None
    village: Named | None = None
    grid: Named | None = None
    unit: Named | None = None
    on_boundary: bool = False
    distance_m: float | None = None
    grid_leader: Leader | None = None
    unit_leader: Leader | None = None
    nearest: Named | None = None
    """Outside coverage: the nearest grid (not an owner), `distance_m` away."""

    def as_dict(self, personal: bool = False) -> dict[str, Any]:
        """JSON-ready; leaders' names and phones only when `personal`."""
        out: dict[str, Any] = {"lon": self.lon, "lat": self.lat, "status": self.status}
        for level in LEVELS:
            area = getattr(self, level)
            out[level] = None if area is None else {"code": area.code, "name": area.name}
        if personal:
            for level in ("grid", "unit"):
                leader = getattr(self, f"{level}_leader")
                if out[level] is not None and leader is not None:
                    out[level]["leader"] = {"name": leader.name, "phone": leader.phone}
        if self.nearest is not None:
            out["nearest_grid"] = {"code": self.nearest.code, "name": self.nearest.name}
        out["on_boundary"] = self.on_boundary
        finite = self.distance_m is not None and math.isfinite(self.distance_m)
        out["distance_m"] = round(self.distance_m, 2) if finite else None  # type: ignore[arg-type]
        return out


CHAIN_COLUMNS = (
    "district_code",
    "district_name",
    "town_code",
    "town_name",
    "village_code",
    "village_name",
    "grid_code",
    "grid_name",
)
TABLE_COLUMNS = (
    "status",
    *CHAIN_COLUMNS,
    "unit_code",
    "unit_name",
    "on_boundary",
    "distance_m",
    "nearest_grid_code",
)
"""The columns OwnerIndex.table gives, in this order."""


@dataclass
class Owners:
    """Owners of N points, as arrays (index into the plan; -1 where none)."""

    grid: NDArray[np.int64]
    unit: NDArray[np.int64]
    on_boundary: NDArray[np.bool_]
    distance_m: NDArray[np.float64]  # 0 inside, metres when snapped or outside (nearest grid)
    status: NDArray[np.str_]  # inside | snapped | outside
    nearest: NDArray[np.int64]  # outside: the nearest grid (not an owner); else -1


# The owner columns added to each row; `status` and `error` get a prefix, as input files
# often have columns of those names.
OWNER_COLUMNS = (
    *(f"locate_{c}" if c == "status" else c for c in TABLE_COLUMNS),
    "locate_error",
)
