"""Service coverage (the 15-minute life circle, GB 50180-2018) per current grid and unit: the
distance to the nearest station of each kind and the share of the area (and of a grid's units)
within 300, 500 and 1,000 m.

- Distances are **straight-line**, in metres, in the city's CGCS2000 3-degree Gauss-Krüger zone
  (gis/crs/systems.local_metric_epsg; the demo city: EPSG:4549, central meridian 120° E), where
  the scale error is below 1/1,000 across the city. An area's distance is from the area itself
  (0 when a station lies inside), so "no station of a kind within r" means no part of the area
  is within r, and then its share within r is 0.
- The share of an area within r is the area of (area ∩ union of r-buffers of the kind's
  stations) / the area, with buffers of 128 segments (the true circle is 0.04 % larger).
- A unit counts as within r of a kind when its point on surface (ST_PointOnSurface) is.
- Walking distance: the store holds no road layer, so every row says method = 'straight-line'.
  The extension point is `METHOD` and `_nearest`/`_shares`: with a road network imported (a
  `roads` table of linestrings), network distances would come from pgRouting's
  pgr_drivingDistance from each station (or pandana on the network) and rows say 'network'.

The figures are kept in area_coverage (one row per area and kind) and recomputed when the
grids, units or stations changed since (`current`); the layer 'coverage' is a view over it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import shapely
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from gis.crs.systems import local_metric_epsg
from gis.errors import BadParameter
from gis.registry.vocab import STATION_KINDS

if TYPE_CHECKING:  # geopandas is imported where it is used: the server starts faster
    import geopandas as gpd

RADII = (300, 500, 1000)
LEVELS = ("grid", "unit")
METHOD = "straight-line"
QUAD_SEGS = 32  # segments per quarter circle of a buffer
SOURCES = ("grids", "units", "stations")
SHARES = tuple(f"{what}_{r}" for what in ("area", "units") for r in RADII)

_AREAS = """
SELECT 'grid' AS level, g.id AS area_id, g.id AS grid_id, g.code, g.name, g.geom
  FROM grids g WHERE g.valid_to IS NULL
UNION ALL
SELECT 'unit', u.id, u.grid_id, u.code, u.name, u.geom FROM units u WHERE u.valid_to IS NULL
ORDER BY 1, 4
"""


def metric_epsg(frame: gpd.GeoDataFrame) -> int:
    """The Gauss-Krüger zone of the frame's centre (EPSG:4534-4554, no zone prefix)."""
    minx, _, maxx, _ = frame.total_bounds if len(frame) else (120.0, 0, 120.0, 0)
    return local_metric_epsg(float(minx + maxx) / 2)


def compute(conn: Connection) -> pd.DataFrame:
    """The coverage of every current grid and unit by every station kind (one row each)."""
    import geopandas as gpd

    areas = gpd.read_postgis(sa.text(_AREAS), conn, geom_col="geom", crs="EPSG:4326")
    stations = gpd.read_postgis(
        sa.text("SELECT kind, geom FROM stations"), conn, geom_col="geom", crs="EPSG:4326"
    )
    epsg = metric_epsg(areas)
    geoms = np.asarray(areas.to_crs(epsg).geometry.values, dtype=object)
    # the point on surface of the stored shape (PostGIS's ST_PointOnSurface), then projected
    points = np.asarray(areas.geometry.representative_point().to_crs(epsg).values, dtype=object)
    is_unit = (areas["level"] == "unit").to_numpy()
    parts = []
    for kind in STATION_KINDS:
        mine = np.asarray(stations[stations["kind"] == kind].to_crs(epsg).geometry.values)
        rows = pd.DataFrame(
            {
                "level": areas["level"],
                "area_id": areas["area_id"],
                "code": areas["code"],
                "kind": kind,
                "method": METHOD,
                "nearest_m": _nearest(geoms, mine),
            }
        )
        point_d = _nearest(points, mine)
        for r in RADII:
            rows[f"area_{r}"] = _shares(geoms, mine, r, rows["nearest_m"].to_numpy())
            within = pd.Series(point_d <= r, index=areas.index)[is_unit]
            share = within.groupby(areas.loc[is_unit, "grid_id"]).mean()
            rows[f"units_{r}"] = np.where(is_unit, np.nan, areas["grid_id"].map(share))
        parts.append(rows)
    return pd.concat(parts, ignore_index=True)


def _nearest(geoms: np.ndarray, stations: np.ndarray) -> np.ndarray:
    """Each geometry's straight-line distance to the nearest of `stations` (NaN: none)."""
    if len(stations) == 0:
        return np.full(len(geoms), np.nan)
    tree = shapely.STRtree(stations)
    (idx, _), dist = tree.query_nearest(geoms, return_distance=True, all_matches=False)
    out = np.full(len(geoms), np.nan)
    out[idx] = dist
    return out


def _shares(geoms: np.ndarray, stations: np.ndarray, r: float, nearest: np.ndarray) -> np.ndarray:
    """Each area's share within `r` of a station: only the stations within r of an area are
    buffered and intersected with it (areas out of reach are 0 without any overlay)."""
    out = np.zeros(len(geoms))
    near = np.flatnonzero(nearest <= r)
    if len(near) == 0:
        return out
    tree = shapely.STRtree(stations)
    area_idx, station_idx = tree.query(geoms[near], predicate="dwithin", distance=r)
    buffers = shapely.buffer(stations, r, quad_segs=QUAD_SEGS)
    order = np.argsort(area_idx, kind="stable")
    area_idx, station_idx = area_idx[order], station_idx[order]
    starts = np.flatnonzero(np.r_[True, area_idx[1:] != area_idx[:-1]])
    groups = np.split(station_idx, starts[1:])
    covers = np.array([shapely.union_all(buffers[g]) for g in groups], dtype=object)
    mine = geoms[near[area_idx[starts]]]
    share = shapely.area(shapely.intersection(mine, covers)) / shapely.area(mine)
    out[near[area_idx[starts]]] = np.clip(share, 0.0, 1.0)
    return out


def refresh(conn: Connection) -> int:
    """Recompute area_coverage for the current plan and stations; returns the rows written."""
    frame = compute(conn)
    conn.execute(sa.text("DELETE FROM area_coverage"))
    if frame.empty:
        return 0
    cols = ["level", "area_id", "code", "kind", "method", "nearest_m", *SHARES]
    arrays = {c: frame[c].astype(object).where(pd.notna(frame[c]), None).tolist() for c in cols}
    types = {"area_id": "int[]", "nearest_m": "float8[]", **{s: "float8[]" for s in SHARES}}
    unnest = ", ".join(f"CAST(:{c} AS {types.get(c, 'text[]')})" for c in cols)
    conn.execute(
        sa.text(f"INSERT INTO area_coverage ({', '.join(cols)}) SELECT * FROM unnest({unnest})"),
        arrays,
    )
    return len(frame)


def stale(conn: Connection) -> bool:
    """Whether area_coverage predates the last change to the grids, units or stations."""
    return bool(
        conn.execute(
            sa.text(
                "SELECT coalesce((SELECT max(computed_at) FROM area_coverage) <= "
                "(SELECT max(changed_at) FROM layer_versions WHERE tbl IN :sources), true)"
            ).bindparams(sa.bindparam("sources", expanding=True)),
            {"sources": list(SOURCES)},
        ).scalar_one()
    )


def current(conn: Connection) -> None:
    """Refresh area_coverage when it is stale (the first reader after a change pays)."""
    if stale(conn):
        conn.execute(sa.text("LOCK TABLE area_coverage IN SHARE ROW EXCLUSIVE MODE"))
        if stale(conn):  # another reader refreshed it while we waited
            refresh(conn)


def check(kind: str | None, radius: int | None, level: str) -> None:
    """BadParameter naming the value when a coverage query's parameters cannot be used."""
    if kind is not None and kind not in STATION_KINDS:
        raise BadParameter("kind", f"{kind[:40]!r} is not one of {', '.join(STATION_KINDS)}")
    if radius is not None and radius not in RADII:
        raise BadParameter(
            "radius", f"{radius} m is not a life-circle radius: use {', '.join(map(str, RADII))}"
        )
    if level not in LEVELS:
        raise BadParameter("level", f"{level[:20]!r} is not one of {', '.join(LEVELS)}")


def table(
    conn: Connection,
    kind: str | None = None,
    radius: int | None = None,
    level: str = "grid",
    uncovered: bool = False,
) -> list[dict[str, Any]]:
    """Coverage rows of `level` (by code, then kind), refreshed first when stale. With a
    radius: `within` and that radius's shares; `uncovered`: only areas with no station of the
    kind within the radius (a radius is then required)."""
    check(kind, radius, level)
    if uncovered and radius is None:
        raise BadParameter("uncovered", "give a radius (300, 500 or 1000) to find areas without")
    current(conn)
    conds, binds = ["c.level = :level"], {"level": level, "radius": radius}
    if kind is not None:
        conds.append("c.kind = :kind")
        binds["kind"] = kind
    if uncovered:
        conds.append("(c.nearest_m IS NULL OR c.nearest_m > :radius)")
    if radius is None:
        shares = ", ".join(f"c.{s}" for s in SHARES)
    else:  # a constant of this module (checked above), not request text
        shares = (
            f"c.area_{radius} AS share_area, c.units_{radius} AS share_units, "
            "coalesce(c.nearest_m <= :radius, false) AS within"
        )
    areas = "grids" if level == "grid" else "units"
    rows = conn.execute(
        sa.text(
            f"SELECT c.code, a.name, c.kind, c.method, c.nearest_m, {shares} "
            f"FROM area_coverage c JOIN {areas} a ON a.id = c.area_id "
            f"WHERE {' AND '.join(conds)} ORDER BY c.code, c.kind"
        ),
        binds,
    ).mappings()
    return [{k: _round(v) for k, v in r.items()} for r in rows]


BASE = ("code", "name", "kind", "method", "nearest_m")


def shares_of(radius: int | None) -> tuple[str, ...]:
    return SHARES if radius is None else ("share_area", "share_units", "within")


def columns(radius: int | None) -> list[str]:
    """The columns of `table`'s rows (and of its CSV) for a radius or none."""
    return [*BASE, *shares_of(radius)]


def _round(v: Any) -> Any:
    return round(v, 4) if isinstance(v, float) else v


def describe(radius: int | None) -> dict[str, Any]:
    """The method behind the figures, for the answers that carry them."""
    return {
        "method": METHOD,
        "distance": "metres from the area (0 inside) to the nearest station, in the city's "
        "CGCS2000 Gauss-Krüger zone",
        "share_area": "share of the area within the radius of a station of the kind",
        "share_units": "share of a grid's units whose point on surface is within the radius",
        "radii": list(RADII) if radius is None else [radius],
    }
