"""The city's extent, read from the loaded districts, used to catch misplaced coordinates."""

from __future__ import annotations

import math
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Connection

# Used only while no district is loaded: a coordinate must at least fall in China.
CHINA = (73.4, 18.1, 135.1, 53.6)


@dataclass(frozen=True)
class Extent:
    """A lon/lat box with a name for messages."""

    minx: float
    miny: float
    maxx: float
    maxy: float
    what: str

    def describe(self) -> str:
        return (
            f"{self.what} ({self.minx:.3f}..{self.maxx:.3f} E, {self.miny:.3f}..{self.maxy:.3f} N)"
        )


def city_extent(conn: Connection, margin_m: float) -> Extent:
    """The districts' bounding box grown by `margin_m`, or China's box when none is loaded."""
    row = conn.execute(
        sa.text(
            "SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) "
            "FROM (SELECT ST_Extent(geom) AS e FROM regions WHERE level = 'district') s"
        )
    ).one()
    if row[0] is None:
        return Extent(*CHINA, what="China (no district is loaded yet)")
    minx, miny, maxx, maxy = (float(v) for v in row)
    dlat = margin_m / 111_320.0
    dlon = margin_m / (111_320.0 * math.cos(math.radians((miny + maxy) / 2)))
    return Extent(
        minx - dlon,
        miny - dlat,
        maxx + dlon,
        maxy + dlat,
        what=f"the city's extent plus {margin_m:g} m",
    )
