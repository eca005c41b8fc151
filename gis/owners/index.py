"""Locate many points at once in process: the current plan held in shapely STRtrees.

Same rules as gis/owners/locate.py (PostGIS), vectorised. The points are indexed and the grid and
unit polygons are the queries (prepared, split across threads: GEOS releases the GIL), which
measured 2-3x faster than indexing the polygons. Distances are in metres in the local
CGCS2000 Gauss-Krüger zone (PostGIS measures on the ellipsoid: they agree within 0.1 %).
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any, cast

import numpy as np
import shapely
import sqlalchemy as sa
from numpy.typing import NDArray
from sqlalchemy.engine import Connection

from gis.crs.systems import local_metric_epsg, transformer
from gis.owners.extent import city_extent
from gis.owners.levels import LEVELS
from gis.owners.model import (
    CHAIN_COLUMNS,
    DEFAULT_TOLERANCE_M,
    Leader,
    Location,
    Named,
    Owners,
    Status,
)
from gis.registry.layers import get_layer
from gis.store.settings import get_settings

THREADS = 2
FEW_POINTS = 8000  # below this, polygon trees are queried with the points (measured)


def _plan_sql(layer_id: str, link: str) -> str:
    """The current rows of a plan layer (the registry's table and condition) with the columns
    the index holds; `link` is the column tying a row to its parent."""
    layer = get_layer(layer_id)
    cols = ", ".join(
        f"{layer.field(n).expr} AS {n}" for n in ("code", "name", "leader_name", "leader_phone")
    )
    return (
        f"SELECT t.id, {link}, {cols}, ST_AsBinary(t.geom) AS wkb "
        f"FROM {layer.table} t WHERE {layer.where} ORDER BY t.code"
    )


PLAN_SQL = {
    "grids": _plan_sql("grids", "t.village_code"),
    "units": _plan_sql("units", "t.grid_id"),
    "regions": "SELECT code, name, parent_code FROM regions",
}
# A cheap fingerprint of the plan: changes whenever a grid or unit row changes.
# The plan's version: the trigger-kept versions of its tables (migration 0003), bumped in
# the transaction of any change, so reading it costs one index lookup.
VERSION_SQL = sa.text(
    "SELECT string_agg(tbl || ':' || version, '/' ORDER BY tbl) FROM layer_versions "
    "WHERE tbl IN ('regions', 'grids', 'units')"
)


def _query_threads(tree: shapely.STRtree, polygons: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(polygon index, point index) pairs where the polygon covers the point, over threads."""
    chunks = [c for c in np.array_split(np.arange(len(polygons)), THREADS) if len(c)]
    if not chunks:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)

    def run(idx: np.ndarray) -> np.ndarray:
        pairs = tree.query(polygons[idx], predicate="intersects")
        pairs[0] = idx[pairs[0]]
        return pairs

    if len(chunks) == 1:
        pairs = run(chunks[0])
    else:
        with ThreadPoolExecutor(THREADS) as pool:
            pairs = np.concatenate(list(pool.map(run, chunks)), axis=1)
    return pairs[0], pairs[1]


class Runs:
    """Points in a compact order (along a Hilbert curve) cut into runs of `run` consecutive
    points, and the box of each run: made once, then asked of each polygon tree (_query_xy)."""

    def __init__(self, x: np.ndarray, y: np.ndarray, run: int = 16) -> None:
        self.x, self.y, self.run = x, y, run
        self.starts = np.arange(0, len(x), run)
        self.boxes = shapely.box(
            np.minimum.reduceat(x, self.starts),
            np.minimum.reduceat(y, self.starts),
            np.maximum.reduceat(x, self.starts),
            np.maximum.reduceat(y, self.starts),
        )


def _query_xy(
    tree: shapely.STRtree, polygons: np.ndarray, bounds: np.ndarray, runs: Runs
) -> tuple[np.ndarray, np.ndarray]:
    """As _query_threads, for points in runs (see Runs): the boxes of the runs query the
    polygons' tree, each candidate pair is cut by the polygon's box (`bounds`, one row of
    minx, miny, maxx, maxy a polygon), then tested on the coordinates (GEOS's prepared
    intersects of x, y); no point geometries are made. Half the time of _query_threads."""
    if not len(polygons):
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
    x, y, starts, n = runs.x, runs.y, runs.starts, len(runs.x)
    box, poly = tree.query(runs.boxes)
    sizes = np.minimum(starts[box] + runs.run, n) - starts[box]
    poly = np.repeat(poly, sizes)
    pt = np.repeat(starts[box] - np.cumsum(sizes) + sizes, sizes) + np.arange(sizes.sum())
    px, py = x[pt], y[pt]
    keep = (px >= bounds[0][poly]) & (px <= bounds[2][poly])
    keep &= (py >= bounds[1][poly]) & (py <= bounds[3][poly])
    poly, pt = poly[keep], pt[keep]
    hit = shapely.intersects_xy(polygons[poly], px[keep], py[keep])
    return poly[hit], pt[hit]


class OwnerIndex:
    """The current grids and units in memory, for vectorised locating."""

    def __init__(self, conn: Connection) -> None:
        self.version = str(conn.execute(VERSION_SQL).scalar_one())
        g = conn.execute(sa.text(PLAN_SQL["grids"])).mappings().all()
        u = conn.execute(sa.text(PLAN_SQL["units"])).mappings().all()
        # Part of the plan's version (VERSION_SQL covers regions): checked with it.
        self.extent = city_extent(conn, get_settings().extent_margin_m)
        self.regions = {
            r["code"]: (r["name"], r["parent_code"])
            for r in conn.execute(sa.text(PLAN_SQL["regions"])).mappings()
        }
        self.grid_rows, self.unit_rows = g, u
        self.grid_ids = np.array([r["id"] for r in g], dtype=np.int64)
        self.unit_ids = np.array([r["id"] for r in u], dtype=np.int64)
        self.grid_geoms = shapely.from_wkb([bytes(r["wkb"]) for r in g])
        self.unit_geoms = shapely.from_wkb([bytes(r["wkb"]) for r in u])
        position = {gid: i for i, gid in enumerate(self.grid_ids.tolist())}
        self.unit_grid = np.array([position.get(r["grid_id"], -1) for r in u], dtype=np.int64)
        # Grids whose units tile them (area sums agree): a point in such a grid is in one of
        # its units, so units alone answer for it. Other grids are queried themselves.
        unit_area = np.bincount(
            self.unit_grid[self.unit_grid >= 0],
            weights=shapely.area(self.unit_geoms[self.unit_grid >= 0]),
            minlength=len(g),
        )
        grid_area = shapely.area(self.grid_geoms)
        self.untiled = np.flatnonzero(np.abs(grid_area - unit_area) > 1e-9 * grid_area)
        self.columns = self._columns()
        lon = float(np.mean(shapely.bounds(self.grid_geoms)[:, [0, 2]])) if len(g) else 120.0
        self.metric_epsg = local_metric_epsg(lon)
        self.derive()

    # What derive() makes of the shapes and the arrays above: rebuilt, never sent (Dask).
    DERIVED = (
        *("unit_tree", "untiled_geoms", "untiled_tree", "unit_bounds", "untiled_bounds"),
        *("units_by_grid", "unit_ends", "_to_metric", "grid_metric", "grid_metric_tree"),
        *("_chains", "lock"),
    )

    def derive(self) -> None:
        """The trees and lookups built from the shapes (prepared here) and arrays."""
        shapely.prepare(self.grid_geoms)
        shapely.prepare(self.unit_geoms)
        self.unit_tree = shapely.STRtree(self.unit_geoms)
        self.untiled_geoms = self.grid_geoms[self.untiled]
        self.untiled_tree = shapely.STRtree(self.untiled_geoms)
        self.unit_bounds = np.ascontiguousarray(shapely.bounds(self.unit_geoms).T)
        self.untiled_bounds = np.ascontiguousarray(shapely.bounds(self.untiled_geoms).T)
        # each grid's units: units_by_grid[unit_ends[g]:unit_ends[g + 1]]
        self.units_by_grid = np.argsort(self.unit_grid, kind="stable")
        self.unit_ends = np.searchsorted(
            self.unit_grid[self.units_by_grid], np.arange(len(self.grid_geoms) + 1)
        )
        self._to_metric = transformer(4326, self.metric_epsg)
        self.grid_metric = self._metric(self.grid_geoms)
        self.grid_metric_tree = shapely.STRtree(self.grid_metric)
        self._chains: dict[int, dict[str, Any]] = {}
        self.lock = threading.Lock()

    def _columns(self) -> dict[str, np.ndarray]:
        """Per grid (and per unit) the public names of the owner chain, for tables."""
        cols: dict[str, list[str]] = {k: [] for k in CHAIN_COLUMNS}
        for r in self.grid_rows:
            code = r["village_code"]
            for level in ("village", "town", "district"):
                name, parent = self.regions.get(code, ("", None))
                cols[f"{level}_code"].append(code or "")
                cols[f"{level}_name"].append(name)
                code = parent
            cols["grid_code"].append(r["code"])
            cols["grid_name"].append(r["name"])
        out = {k: np.array(v + [""], dtype=object) for k, v in cols.items()}  # [-1] is ""
        out["unit_code"] = np.array([r["code"] for r in self.unit_rows] + [""], dtype=object)
        out["unit_name"] = np.array([r["name"] for r in self.unit_rows] + [""], dtype=object)
        return out

    def table(self, o: Owners) -> dict[str, np.ndarray]:
        """Owner columns for many points (empty strings where none), ready for a CSV."""
        out = {k: v[o.grid] for k, v in self.columns.items() if not k.startswith("unit")}
        out["unit_code"] = self.columns["unit_code"][o.unit]
        out["unit_name"] = self.columns["unit_name"][o.unit]
        out["status"] = o.status
        out["on_boundary"] = o.on_boundary
        out["distance_m"] = np.round(o.distance_m, 2)
        out["nearest_grid_code"] = self.columns["grid_code"][o.nearest]
        return out

    def _nearest_unit(self, points: np.ndarray, grids: np.ndarray) -> np.ndarray:
        """For each point, the nearest unit of its grid, in metres (the local Gauss-Krüger
        zone; the lowest code on a tie), or -1 for a grid without units."""
        ends = self.unit_ends
        first, count = ends[grids], ends[grids + 1] - ends[grids]
        owner = np.repeat(np.arange(len(points)), count)
        step = np.repeat(first - np.cumsum(count) + count, count) + np.arange(count.sum())
        member = self.units_by_grid[step]
        used, back = np.unique(member, return_inverse=True)  # each unit projected once
        distance = shapely.distance(
            self._metric(self.unit_geoms[used])[back], self._metric(points)[owner]
        )
        order = np.lexsort((member, distance, owner))  # per point: nearest, then lowest code
        owner, member = owner[order], member[order]
        first_of = np.ones(len(owner), dtype=bool)
        first_of[1:] = owner[1:] != owner[:-1]
        out = np.full(len(points), -1, dtype=np.int64)
        out[owner[first_of]] = member[first_of]
        return out

    def _metric(self, geoms: np.ndarray) -> np.ndarray:
        t = self._to_metric
        return shapely.transform(geoms, lambda xy: np.column_stack(t.transform(xy[:, 0], xy[:, 1])))

    def owners(
        self,
        lon: NDArray[np.float64],
        lat: NDArray[np.float64],
        tolerance_m: float = DEFAULT_TOLERANCE_M,
        points: np.ndarray | None = None,
        compact: bool = False,
    ) -> Owners:
        """Owners of each (lon, lat) in EPSG:4326 (or of `points`), by the ownership rules.
        `compact`: the points come in a compact order (a Hilbert range sorted, as Dask's
        partitions): they are located from their coordinates (_query_xy)."""
        n = len(lon) if points is None else len(points)
        if compact and points is None and n >= FEW_POINTS:
            runs = Runs(lon, lat)
            upoly, upt = _query_xy(self.unit_tree, self.unit_geoms, self.unit_bounds, runs)
            gpoly, gpt = _query_xy(self.untiled_tree, self.untiled_geoms, self.untiled_bounds, runs)
        else:
            points = shapely.points(lon, lat) if points is None else points
            if n < FEW_POINTS:  # few points: query the polygons' trees with them
                upt, upoly = self.unit_tree.query(points, predicate="intersects")
                gpt, gpoly = self.untiled_tree.query(points, predicate="intersects")
            else:  # many: index the points, query with the prepared polygons, over threads
                tree = shapely.STRtree(points)
                upoly, upt = _query_threads(tree, self.unit_geoms)
                gpoly, gpt = _query_threads(tree, self.untiled_geoms)
        current = self.unit_grid[upoly] >= 0  # a unit of no current grid owns nothing
        upoly, upt = upoly[current], upt[current]
        cand_grid = np.concatenate([self.unit_grid[upoly], self.untiled[gpoly]])
        cand_pt = np.concatenate([upt, gpt])
        none = np.iinfo(np.int64).max
        grid = np.full(n, none, dtype=np.int64)
        np.minimum.at(grid, cand_pt, cand_grid)  # grids are sorted by code: lowest code wins
        on_boundary = np.zeros(n, dtype=bool)
        on_boundary[cand_pt[cand_grid != grid[cand_pt]]] = True
        unit = np.full(n, none, dtype=np.int64)
        mine = self.unit_grid[upoly] == grid[upt]
        np.minimum.at(unit, upt[mine], upoly[mine])
        grid[grid == none], unit[unit == none] = -1, -1
        distance = np.zeros(n)
        status = np.full(n, "inside", dtype="<U7")
        nearest = np.full(n, -1, dtype=np.int64)
        uncovered = np.flatnonzero(grid < 0)
        if points is None:  # the compact path: points made only where needed below
            lone = np.flatnonzero(unit < 0)  # uncovered ones included
            points = np.empty(n, dtype=object)
            points[lone] = shapely.points(lon[lone], lat[lone])
        if len(uncovered):
            mp = self._metric(points[uncovered])
            idx, d = self.grid_metric_tree.query_nearest(
                mp, return_distance=True, all_matches=False
            )
            near = np.full(len(uncovered), -1, dtype=np.int64)
            dist = np.full(len(uncovered), np.inf)
            near[idx[0]], dist[idx[0]] = idx[1], d
            snapped = dist <= tolerance_m
            grid[uncovered[snapped]] = near[snapped]
            distance[uncovered] = dist
            status[uncovered] = np.where(snapped, "snapped", "outside")
            nearest[uncovered[~snapped]] = near[~snapped]
        # Snapped points, and points in a grid on none of its units: its nearest unit.
        lone = np.flatnonzero((unit < 0) & (grid >= 0))
        if len(lone):
            unit[lone] = self._nearest_unit(points[lone], grid[lone])
        return Owners(grid, unit, on_boundary, distance, status, nearest)

    def inside(self, lon: float, lat: float) -> dict[str, Any] | None:
        """The public answer for a point inside a unit, or None for every other case.

        Equal to location(lon, lat).as_dict(), built from a per-unit cache of the owner
        chain: the hot path of GET /locate.
        """
        point = shapely.Point(lon, lat)
        units = self.unit_tree.query(point, predicate="intersects").tolist()
        if not units or len(self.untiled):
            return None
        grids = {int(self.unit_grid[u]) for u in units}
        grid = min(grids)
        unit = min(u for u in units if self.unit_grid[u] == grid)
        chain = self._chains.get(unit)
        if chain is None:
            d = self.location(lon, lat).as_dict()
            chain = {k: d[k] for k in LEVELS}
            self._chains[unit] = chain
        return {
            "lon": lon,
            "lat": lat,
            "status": "inside",
            # copies: a caller that adds to an entry (a leader, say) must not change the cache
            **{level: dict(named) if named else named for level, named in chain.items()},
            "on_boundary": len(grids) > 1,
            "distance_m": None,
        }

    def location(
        self, lon: float, lat: float, tolerance_m: float = DEFAULT_TOLERANCE_M
    ) -> Location:
        """One point's Location (the HTTP single form). A point inside a unit takes a scalar
        path (~15 µs); snapping and the rest go through owners(), which holds every rule."""
        point = shapely.Point(lon, lat)
        units = self.unit_tree.query(point, predicate="intersects").tolist()
        grids = {int(self.unit_grid[u]) for u in units}
        if len(self.untiled):
            grids |= set(
                self.untiled[self.untiled_tree.query(point, predicate="intersects")].tolist()
            )
        grid = min(grids) if grids else -1
        mine = [u for u in units if self.unit_grid[u] == grid]
        if grid < 0 or not mine:
            o = self.owners(np.array([lon]), np.array([lat]), tolerance_m)
        else:
            o = Owners(
                np.array([grid]),
                np.array([min(mine)]),
                np.array([len(grids) > 1]),
                np.zeros(1),
                np.array(["inside"]),
                np.array([-1]),
            )
        return self.describe(o, 0, lon, lat)

    def describe(self, o: Owners, i: int, lon: float, lat: float) -> Location:
        """Point i of `o` as a Location with names and the region chain."""
        status = cast(Status, str(o.status[i]))
        loc = Location(
            lon,
            lat,
            status,
            on_boundary=bool(o.on_boundary[i]),
            distance_m=None if status == "inside" else float(o.distance_m[i]),
        )
        if status == "outside":
            near = int(o.nearest[i])
            if near >= 0:
                loc.nearest = Named(self.grid_rows[near]["code"], self.grid_rows[near]["name"])
            return loc
        g = self.grid_rows[int(o.grid[i])]
        loc.grid_id, loc.grid = g["id"], Named(g["code"], g["name"])
        loc.grid_leader = Leader(g["leader_name"], g["leader_phone"])
        if o.unit[i] >= 0:
            u = self.unit_rows[int(o.unit[i])]
            loc.unit_id, loc.unit = u["id"], Named(u["code"], u["name"])
            loc.unit_leader = Leader(u["leader_name"], u["leader_phone"])
        code = g["village_code"]
        for level in ("village", "town", "district"):
            if code in self.regions:
                name, parent = self.regions[code]
                setattr(loc, level, Named(code, name))
                code = parent
        return loc
