"""Hotspot statistics per grid: local Getis-Ord Gi* and local Moran's I of a rate per km² over
queen contiguity of the current grids, with seeded permutation p-values and classes.

- The variable is a **rate per km²** (the count in a grid / its area on the ellipsoid): grids
  differ in area twentyfold between downtown and the villages, and a count would make the large
  grids hot by size alone; units are not used as denominators because their number per grid
  is a planning choice, not an exposure.
- Neighbours are queen contiguity of the grid polygons (libpysal.graph.Graph.build_contiguity,
  rook=False: a shared vertex is enough). Gi* uses binary weights with the grid itself included
  (star); Moran's I row-standardised weights.
- p-values are pseudo p-values from `permutations` conditional permutations with a fixed seed
  (the same call gives the same answer). Gi* classes: hot_99 / hot_95 / hot_90 (and cold_...)
  by the permutation p at 0.01 / 0.05 / 0.10 and the sign of z; else `ns`. Moran classes:
  HH, LH, LL, HL at p <= 0.05, else `ns`. A grid with no neighbour is `island`, its statistics
  null (a local statistic of a grid alone says nothing about clustering).
- Who sees what: hotspot classes, z and p are aggregates over a grid and its neighbours and are
  public. Case counts per grid follow the public statistics' rule (the access policy's
  figure_limits: a period of at least 7 days, counts 1..k-1 withheld, with the rate that would
  give them away); waterlogging spots are a public layer, so their counts are never withheld.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from gis.access.policy import figure_limits, figure_period
from gis.access.roles import PUBLIC, Actor
from gis.errors import BadParameter
from gis.registry.layers import get_layer
from gis.registry.vocab import CASE_CATEGORIES

if TYPE_CHECKING:  # geopandas is imported where it is used: the server starts faster
    import geopandas as gpd

SUBJECTS = ("cases", "waterlogging")
PERMUTATIONS, MAX_PERMUTATIONS = 999, 9999
SEED = 20240917
GI_LEVELS = ((0.01, "99"), (0.05, "95"), (0.10, "90"))
MORAN_ALPHA = 0.05
QUADRANTS = {1: "HH", 2: "LH", 3: "LL", 4: "HL"}
NS, ISLAND = "ns", "island"
COLUMNS = (
    "code", "name", "n", "area_km2", "rate", "neighbours",
    "gi_z", "gi_p", "gi_class", "moran_i", "moran_p", "moran_class",
)  # fmt: skip


@dataclass(frozen=True)
class Analysis:
    """What to analyse: a subject, for cases a category and a period [since, until)."""

    subject: str = "cases"
    category: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    permutations: int = PERMUTATIONS
    seed: int = SEED
    tables: tuple[str, ...] = field(init=False, default=())

    def __post_init__(self) -> None:
        if self.subject not in SUBJECTS:
            raise BadParameter("subject", f"{self.subject[:30]!r} is not one of {SUBJECTS}")
        if self.category is not None and self.category not in CASE_CATEGORIES:
            raise BadParameter(
                "category",
                f"{self.category[:40]!r} is not a case category: use one of "
                f"{', '.join(CASE_CATEGORIES)}",
            )
        if self.subject == "waterlogging" and (self.category or self.since or self.until):
            raise BadParameter(
                "subject",
                "waterlogging spots have no category or time: remove category, since and until",
            )
        for name in ("since", "until"):
            value = getattr(self, name)
            if value is not None and value.tzinfo is None:
                raise BadParameter(name, f"{value.isoformat()} has no time zone: add Z or +08:00")
        if self.since and self.until and self.since >= self.until:
            raise BadParameter("until", "the period ends before it starts: until must follow since")
        if not 99 <= self.permutations <= MAX_PERMUTATIONS:
            raise BadParameter(
                "permutations", f"{self.permutations} is not in 99..{MAX_PERMUTATIONS}"
            )
        tables = ("grids", "cases") if self.subject == "cases" else ("grids", "hotspots")
        object.__setattr__(self, "tables", tables)


def _counts_sql(a: Analysis) -> tuple[str, dict[str, Any]]:
    binds: dict[str, Any] = {}
    if a.subject == "waterlogging":
        inner = "SELECT grid_id, count(*) AS n FROM hotspots WHERE kind = 'waterlogging'"
    else:
        inner = "SELECT grid_id, count(*) AS n FROM cases WHERE TRUE"
        for name, cond in (
            ("category", "category = :category"),
            ("since", "reported_at >= :since"),
            ("until", "reported_at < :until"),
        ):
            if getattr(a, name) is not None:
                inner += f" AND {cond}"
                binds[name] = getattr(a, name)
    sql = (
        "SELECT g.id AS grid_id, g.code, g.name, coalesce(c.n, 0)::int AS n, "
        "ST_Area(g.geom::geography) / 1e6 AS area_km2, g.geom "
        f"FROM grids g LEFT JOIN ({inner} GROUP BY grid_id) c ON c.grid_id = g.id "
        "WHERE g.valid_to IS NULL ORDER BY g.code"
    )
    return sql, binds


def rates(conn: Connection, a: Analysis) -> gpd.GeoDataFrame:
    """Per current grid (by code): the count of the subject, the area in km² and the rate."""
    import geopandas as gpd

    sql, binds = _counts_sql(a)
    frame = gpd.read_postgis(sa.text(sql), conn, geom_col="geom", crs="EPSG:4326", params=binds)
    frame["rate"] = frame["n"] / frame["area_km2"]
    return frame


def local_statistics(
    geoms: gpd.GeoSeries, y: np.ndarray, permutations: int = PERMUTATIONS, seed: int = SEED
) -> pd.DataFrame:
    """Gi* and local Moran's I of `y` over queen contiguity of `geoms` (one row per geometry,
    in their order): neighbours, gi_z, gi_p, gi_class, moran_i, moran_p, moran_class."""
    from esda.getisord import G_Local
    from esda.moran import Moran_Local
    from libpysal.graph import Graph

    n = len(y)
    out = pd.DataFrame(
        {
            "neighbours": np.zeros(n, dtype=int),
            "gi_z": np.nan,
            "gi_p": np.nan,
            "gi_class": NS,
            "moran_i": np.nan,
            "moran_p": np.nan,
            "moran_class": NS,
        },
        index=geoms.index,
    )
    if n == 0:
        return out
    graph = Graph.build_contiguity(geoms.reset_index(drop=True), rook=False)
    cards = graph.cardinalities.reindex(range(n), fill_value=0).to_numpy()
    out["neighbours"] = cards
    island = cards == 0
    y = np.asarray(y, dtype=float)
    if island.all() or np.ptp(y[~island]) == 0:  # nothing varies: no statistic is defined
        out.loc[island, ["gi_class", "moran_class"]] = ISLAND
        return out
    with warnings.catch_warnings():  # esda warns about islands; they are classed below
        warnings.simplefilter("ignore")
        gi = G_Local(y, graph, "B", permutations=permutations, star=True, n_jobs=1, seed=seed)
        lisa = Moran_Local(y, graph, "r", permutations=permutations, n_jobs=1, seed=seed)
    z, p = np.asarray(gi.Zs, dtype=float), pseudo_p(gi.Gs, gi.rGs)
    out["gi_z"], out["gi_p"] = z, p
    out["gi_class"] = [_gi_class(zi, pi) for zi, pi in zip(z, p, strict=True)]
    out["moran_i"], out["moran_p"] = (
        np.asarray(lisa.Is, dtype=float),
        pseudo_p(lisa.Is, lisa.rlisas),
    )
    out["moran_class"] = [
        QUADRANTS[int(q)] if pi <= MORAN_ALPHA else NS
        for q, pi in zip(lisa.q, out["moran_p"], strict=True)
    ]
    out.loc[island, ["gi_z", "gi_p", "moran_i", "moran_p"]] = np.nan
    out.loc[island, ["gi_class", "moran_class"]] = ISLAND
    return out


def pseudo_p(observed: np.ndarray, simulated: np.ndarray) -> np.ndarray:
    """The permutation pseudo p-value in the observation's direction, (m + 1) / (P + 1), with m
    the draws at least as extreme on the nearer side, ties counted on both sides. (esda's own
    p_sim counts ties as above the observation only: a grid at the lowest possible value among
    many equal ones, e.g. no waterlogging spot in it or around it, got p = 0.001.)"""
    obs = np.asarray(observed, dtype=float)[:, None]
    sims = np.asarray(simulated, dtype=float)
    m = np.minimum((sims >= obs).sum(axis=1), (sims <= obs).sum(axis=1))
    return np.asarray((m + 1.0) / (sims.shape[1] + 1.0))


def _gi_class(z: float, p: float) -> str:
    if not np.isfinite(z) or not np.isfinite(p):
        return NS
    for level, name in GI_LEVELS:
        if p <= level:
            return f"{'hot' if z > 0 else 'cold'}_{name}"
    return NS


def analyse(conn: Connection, a: Analysis) -> gpd.GeoDataFrame:
    """The analysis per current grid, indexed by code, every figure exact (for a signed-in
    reader; `for_actor` shapes it for others); the geometry is the grid's."""
    frame = rates(conn, a)
    stats = local_statistics(frame.geometry, frame["rate"].to_numpy(), a.permutations, a.seed)
    import geopandas as gpd

    frame = pd.concat([frame, stats], axis=1).set_index("code", drop=False)
    frame["n"] = frame["n"].astype("Int64")
    return gpd.GeoDataFrame(frame[[*COLUMNS, "grid_id", "geom"]], geometry="geom")


def for_actor(frame: gpd.GeoDataFrame, a: Analysis, actor: Actor) -> gpd.GeoDataFrame:
    """`frame` as `actor` may see it: for the public, case counts 1..k-1 and their rates
    withheld (null). Call `check_period` before computing."""
    limits = check_period(a, actor)
    if limits is None:
        return frame
    small = (frame["n"] > 0) & (frame["n"] < limits[1])
    out = frame.copy()
    out["n"] = out["n"].mask(small)
    out["rate"] = out["rate"].mask(small)
    return out


def hotspots(conn: Connection, a: Analysis, actor: Actor = PUBLIC) -> gpd.GeoDataFrame:
    """The analysis per current grid, indexed by code, as `actor` may see it (see the module's
    docstring for who sees which counts)."""
    check_period(a, actor)
    return for_actor(analyse(conn, a), a, actor)


def check_period(a: Analysis, actor: Actor) -> tuple[float, int] | None:
    """The public's figure limits for case counts (None for waterlogging or a signed-in
    reader); BadParameter when the period is shorter than the public may see."""
    if a.subject != "cases":
        return None
    cases = get_layer("cases")
    if a.since is None:
        return figure_limits(cases, actor)
    return figure_period(cases, actor, a.since, a.until or datetime.now(UTC))


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """The analysis as JSON-ready rows (no geometry; NaN and NA as null)."""
    table = frame[list(COLUMNS)].astype(object)
    table = table.where(pd.notna(table), None)
    return [
        {str(k): (round(v, 6) if isinstance(v, float) else v) for k, v in row.items()}
        for row in table.to_dict("records")
    ]


def describe(a: Analysis) -> dict[str, Any]:
    """The analysis's parameters and method, for the answers that carry its figures."""
    return {
        "subject": a.subject,
        "category": a.category,
        "since": a.since and a.since.isoformat(),
        "until": a.until and a.until.isoformat(),
        "rate": "count per km² of the grid (ellipsoidal area)",
        "weights": "queen contiguity of the current grids (Gi*: binary with self; Moran: row-standardised)",
        "permutations": a.permutations,
        "seed": a.seed,
        "gi_classes": "hot/cold_99|95|90 by permutation p <= 0.01|0.05|0.10; ns; island",
        "moran_classes": f"HH, LH, LL, HL at permutation p <= {MORAN_ALPHA}; ns; island",
    }


def publish(conn: Connection, a: Analysis, exact: gpd.GeoDataFrame | None = None) -> int:
    """Write the analysis (`exact`: analyse()'s frame, if at hand) as the subject's map layer
    (grid_hotspots), replacing the last one; the layer is public, so case counts are stored as
    the public may see them. Returns the rows written."""
    check_period(a, PUBLIC)
    frame = for_actor(analyse(conn, a) if exact is None else exact, a, PUBLIC)
    conn.execute(sa.text("DELETE FROM grid_hotspots WHERE subject = :s"), {"s": a.subject})
    rows = [
        {
            **{k: v for k, v in row.items() if k not in ("name", "area_km2")},
            "grid_id": int(gid),
        }
        for row, gid in zip(records(frame), frame["grid_id"], strict=True)
    ]
    if not rows:
        return 0
    conn.execute(
        sa.text(
            "INSERT INTO grid_hotspots (subject, grid_id, code, category, period_from, "
            "period_to, n, rate, neighbours, gi_z, gi_p, gi_class, moran_i, moran_p, "
            "moran_class, permutations, seed, geom) "
            "SELECT :subject, g.id, :code, :category, :since, :until, :n, :rate, :neighbours, "
            ":gi_z, :gi_p, :gi_class, :moran_i, :moran_p, :moran_class, :permutations, :seed, "
            "g.geom FROM grids g WHERE g.id = :grid_id"
        ),
        [
            {
                **r,
                "subject": a.subject,
                "category": a.category,
                "since": a.since,
                "until": a.until,
                "permutations": a.permutations,
                "seed": a.seed,
            }
            for r in rows
        ],
    )
    return len(rows)


def publish_defaults(conn: Connection) -> int:
    """Publish the default analyses (all cases, all time; waterlogging spots), so a new city's
    map shows both hotspot layers; returns the rows written."""
    return sum(publish(conn, Analysis(subject)) for subject in SUBJECTS)
