"""`onemap.connect`: a OneMap on the local store or on a remote server, one interface."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any

import geopandas as gpd
import pandas as pd

from gis.access.roles import ANALYST, Actor
from gis.errors import InvalidInput
from gis.owners.counts import count_columns, ordered, tally
from gis.owners.model import DEFAULT_TOLERANCE_M
from gis.stats import coverage as cov
from gis.stats.hotspots import PERMUTATIONS, SEED, Analysis
from gis.stats.kpis import default_period, instant

When = datetime | date | str | None
"""A period's bound: a date-time, a date or ISO text; without a zone, China's time (+08:00)."""


class OneMap(ABC):
    """What an analyst asks of OneMap; every answer follows the caller's role (`actor`)."""

    actor: Actor

    @abstractmethod
    def read_layer(
        self,
        name: str,
        bbox: Sequence[float] | None = None,
        where: Mapping[str, Any] | None = None,
        at: When = None,
    ) -> gpd.GeoDataFrame:
        """Layer `name` as the caller may see it, a GeoDataFrame in EPSG:4326 ordered by id.

        bbox: (minlon, minlat, maxlon, maxlat) in CRS84; where: equality on the layer's
        queryables ({"status": "dispatched"}); at: for grids and units, the plan generation in
        force then (local only: the OGC API serves the current plan)."""

    @abstractmethod
    def locate(
        self,
        frame: gpd.GeoDataFrame,
        crs: str | int | None = None,
        tolerance_m: float = DEFAULT_TOLERANCE_M,
    ) -> gpd.GeoDataFrame:
        """`frame` (points) with owner columns: district, town, village, grid and unit codes and
        names, locate_status, on_boundary, distance_m, locate_error. `crs` overrides the frame's
        (give "GCJ02" or "BD09" for web-map coordinates, which no EPSG code names)."""

    def count(
        self,
        frame: gpd.GeoDataFrame,
        by: str = "grid",
        columns: Sequence[str] | str = (),
        crs: str | int | None = None,
        tolerance_m: float = DEFAULT_TOLERANCE_M,
    ) -> pd.DataFrame:
        """How many of `frame`'s points each area at level `by` owns, and each value of
        `columns` within it (a category, a year): columns {by}_code, {by}_name, *columns,
        points, sorted by code; points no grid owns are counted under an empty code. With
        `connect(..., scheduler=)` on the local store, counted on Dask."""
        keys = count_columns(by, columns, [str(c) for c in frame.columns])
        located = self.locate(frame, crs, tolerance_m)
        return ordered(tally(located, keys), keys)

    def kpis(self, by: str = "grid", since: When = None, until: When = None) -> pd.DataFrame:
        """Performance figures (绩效评价) of each area at level `by` for cases reported in
        [since, until) (default: the last 14 days), indexed by the area's code."""
        start, end = self._period(since, until)
        return _indexed(self._figures("kpis", by, start, end, None))

    def ranking(
        self, by: str = "grid", since: When = None, until: When = None, bottom: int | None = None
    ) -> pd.DataFrame:
        """The areas by 综合指标值, best first with their rank; `bottom`: the last N, worst first."""
        start, end = self._period(since, until)
        return _indexed(self._figures("ranking", by, start, end, bottom))

    def hotspots(
        self,
        subject: str = "cases",
        category: str | None = None,
        since: When = None,
        until: When = None,
        permutations: int = PERMUTATIONS,
        seed: int = SEED,
    ) -> gpd.GeoDataFrame:
        """Local Getis-Ord Gi* and local Moran's I of `subject` ("cases" or "waterlogging"
        spots) per km² of each current grid, indexed by grid code, with the grid's geometry:
        n, area_km2, rate, neighbours, gi_z, gi_p, gi_class, moran_i, moran_p, moran_class
        (gis/stats/hotspots.py says how). Cases may be of one `category` and reported in
        [since, until) (default: all of them)."""
        a = Analysis(
            subject, category, instant(since, "since"), instant(until, "until"), permutations, seed
        )
        return self._with_areas(_typed(self._hotspots(a), HOTSPOT_TYPES), "grids")

    def coverage(
        self,
        kind: str | None = None,
        radius: int | None = None,
        level: str = "grid",
        uncovered: bool = False,
    ) -> gpd.GeoDataFrame:
        """Service coverage (15-minute life circle) of each current grid or unit (`level`) by
        each station `kind` (or one), indexed by the area's code, with its geometry: `method`
        (straight-line or network), nearest_m, and the shares of area and units within 300,
        500 and 1,000 m; with a `radius`, share_area, share_units and `within` for it;
        `uncovered`: only the areas with no station of the kind within the radius."""
        cov.check(kind, radius, level)
        rows = self._coverage(kind, radius, level, uncovered)
        types: dict[str, Any] = {c: "float" for c in cov.columns(radius)[4:] if c != "within"}
        frame = _typed(rows, types)
        return self._with_areas(frame, f"{level}s")

    def _with_areas(self, frame: pd.DataFrame, layer: str) -> gpd.GeoDataFrame:
        """`frame` (indexed by area code) with its areas' geometry, in EPSG:4326."""
        areas = self.read_layer(layer)[["code", "geometry"]].set_index("code")
        return gpd.GeoDataFrame(frame.join(areas), geometry="geometry", crs="EPSG:4326")

    @abstractmethod
    def _figures(
        self, what: str, by: str, since: datetime, until: datetime, bottom: int | None
    ) -> list[dict[str, Any]]: ...

    @abstractmethod
    def _hotspots(self, a: Analysis) -> list[dict[str, Any]]: ...

    @abstractmethod
    def _coverage(
        self, kind: str | None, radius: int | None, level: str, uncovered: bool
    ) -> list[dict[str, Any]]: ...

    @staticmethod
    def _period(since: When, until: When) -> tuple[datetime, datetime]:
        return default_period(instant(since, "since"), instant(until, "until"))


HOTSPOT_TYPES: dict[str, Any] = {
    "n": "Int64",
    "neighbours": "int64",
    **{c: "float" for c in ("area_km2", "rate", "gi_z", "gi_p", "moran_i", "moran_p")},
}


def _typed(rows: list[dict[str, Any]], types: dict[str, Any]) -> pd.DataFrame:
    """Rows indexed by code, with one dtype per numeric column (None as NaN or NA)."""
    frame = _indexed(rows)
    for col, kind in types.items():
        if col in frame:
            frame[col] = pd.to_numeric(frame[col]).astype(kind)
    return frame


def _indexed(rows: list[dict[str, Any]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows)
    if frame.empty:
        frame = pd.DataFrame(columns=["code"])
    return frame.set_index("code")


def connect(
    url: str | None = None,
    token: str | None = None,
    role: str = ANALYST,
    grid: str | None = None,
    scheduler: str | None = None,
) -> OneMap:
    """A OneMap: `url` None opens the local store (ONEMAP_DATABASE_URL, else the project's
    cluster); a postgresql:// URL that database; an http(s):// URL a remote OneMap server.

    Locally you read as `role` (default: analyst — everything, personal fields masked), a
    grid worker with their `grid`; or give a user's `token` to read as that user. Remotely
    the `token` is sent as a bearer token; without one you are the public.

    `scheduler` (local store only): locate on Dask, "local" for a local cluster started per
    call, or a running cluster's address (tcp://host:8786)."""
    if url is not None and url.startswith(("http://", "https://")):
        if scheduler is not None:
            raise InvalidInput("scheduler is for a local store: a server locates by itself")
        from onemap.remote import RemoteOneMap

        return RemoteOneMap(url, token)
    from onemap.local import LocalOneMap

    return LocalOneMap(url, token, role, grid, scheduler)
