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
        self, frame: gpd.GeoDataFrame, crs: str | int | None = None, tolerance_m: float = 50.0
    ) -> gpd.GeoDataFrame:
        """`frame` (points) with owner columns: district, town, village, grid and unit codes and
        names, locate_status, on_boundary, distance_m, locate_error. `crs` overrides the frame's
        (give "GCJ02" or "BD09" for web-map coordinates, which no EPSG code names)."""

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

    @abstractmethod
    def _figures(
        self, what: str, by: str, since: datetime, until: datetime, bottom: int | None
    ) -> list[dict[str, Any]]: ...

    @staticmethod
    def _period(since: When, until: When) -> tuple[datetime, datetime]:
        return default_period(instant(since, "since"), instant(until, "until"))


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
